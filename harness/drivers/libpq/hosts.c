/*
 * Which host answered and which were passed over, for a multi-host list (included by operation.c):
 * the complete event's `dialed` and `skipped`, as node-postgres's probes record them (docs/drivers.md).
 */

/* Whether the agent was given several hosts (a comma in the host list). */
static int multi_host(void) {
  const char *hosts = param_value("host");
  return hosts && strchr(hosts, ',');
}

/* host:port as pgdrill writes it, an IPv6 address in brackets. */
static void host_port(char *out, size_t size, const char *host, const char *port) {
  snprintf(out, size, strchr(host ? host : "", ':') ? "[%s]:%s" : "%s:%s", host ? host : "", port ? port : "");
}

/* Notes "host:port: why" (a socket's path alone: "path: why"). */
static void skip(result_t *r, const char *host, const char *port, const char *why) {
  if (r->skipped_count == MAX_SKIPPED) return;
  char where[160];
  if (port) host_port(where, sizeof where, host, port);
  else snprintf(where, sizeof where, "%s", host);
  snprintf(r->skipped[r->skipped_count++], sizeof r->skipped[0], "%.80s: %.110s", where, why);
}

/*
 * After a failed connect, from libpq's own message: one line per host and address it tried,
 * `connection to server at "h" (addr), port p failed: why` (or `on socket "path" failed: why`).
 */
static void skipped_from_error(result_t *r, const char *message) {
  char *copy = strdup(message ? message : ""), *save = NULL;
  for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    static const char at[] = "connection to server at \"", on[] = "connection to server on socket \"";
    int socket = !strncmp(line, on, sizeof on - 1);
    if (!socket && strncmp(line, at, sizeof at - 1)) continue;
    char *host = line + (socket ? sizeof on : sizeof at) - 1, *quote = strchr(host, '"'), *failed = strstr(host, " failed: ");
    if (!quote || !failed) continue;
    *quote = '\0';
    char *port = socket ? NULL : strstr(quote + 1, ", port ");
    if (port) {
      port += 7;
      port[strcspn(port, " ")] = '\0';
    }
    skip(r, host, port, failed + 9);
  }
  free(copy);
}

/*
 * After a connect that landed: each host before the one that answered, in the list's order, was passed
 * over. libpq clears its messages once connected, so why is not known (the latency shows a timeout).
 * With load_balance_hosts=random the order tried is libpq's secret: nothing is said.
 */
static void skipped_before(result_t *r, PGconn *conn) {
  const char *balance = param_value("load_balance_hosts"), *hosts = param_value("host"), *ports = param_value("port");
  if (balance && !strcmp(balance, "random")) return;
  const char *dialed_host = PQhost(conn), *dialed_port = PQport(conn);
  char *host_copy = strdup(hosts), *port_copy = strdup(ports ? ports : ""), *hs = NULL, *ps = NULL;
  char *host = strtok_r(host_copy, ",", &hs), *port = strtok_r(port_copy, ",", &ps), *single_port = port;
  int multiple_ports = ports && strchr(ports, ',');
  for (; host; host = strtok_r(NULL, ",", &hs)) {
    const char *this_port = multiple_ports ? port : single_port;
    if (dialed_host && dialed_port && !strcmp(host, dialed_host) && this_port && !strcmp(this_port, dialed_port)) break;
    skip(r, host, this_port, "passed over (libpq keeps no reason once connected)");
    if (multiple_ports) port = strtok_r(NULL, ",", &ps);
  }
  if (!host) r->skipped_count = 0; /* the host that answered is not in the list as given: say nothing */
  free(host_copy);
  free(port_copy);
}
