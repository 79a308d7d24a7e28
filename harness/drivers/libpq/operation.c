/*
 * One operation of the agent (included by agent.c, whose statics it shares): connect when needed,
 * send the statement, wait for its answer within the deadlines, and say what it means as writes.ts
 * and select1.ts do.
 */

#define MAX_SKIPPED 16
#define SERVER_SQL "coalesce(host(inet_server_addr()) || ':' || inet_server_port(), 'local socket')"
static const char *SELECT1_SQL = "SELECT 1 AS one, " SERVER_SQL " AS server";

typedef struct {
  const char *outcome;
  char server[160];
  char error[240];
  char sqlstate[8];
  int timed_out;
  /* With several hosts: the host:port that answered, and the hosts passed over on the way ("host:port: why"). */
  char dialed[160];
  char skipped[MAX_SKIPPED][200];
  int skipped_count;
} result_t;

/* The last notice of the operation that tells of a cancelled synchronous-replication wait. */
static char sync_warning[240];

static void on_notice(void *arg, const PGresult *res) {
  (void)arg;
  const char *message = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
  if (message && strcasestr(message, "synchronous replication")) snprintf(sync_warning, sizeof sync_warning, "WARNING %.200s", message);
}

/* "<sqlstate> <first line of text>", at most 200 characters. libpq's messages never hold the password. */
static void set_error(result_t *r, const char *sqlstate, const char *text) {
  char line[201];
  snprintf(line, sizeof line, "%s%s%s", sqlstate ? sqlstate : "", sqlstate ? " " : "", text && *text ? text : "unknown error");
  line[strcspn(line, "\n")] = '\0';
  snprintf(r->error, sizeof r->error, "%s", line);
  if (sqlstate) snprintf(r->sqlstate, sizeof r->sqlstate, "%s", sqlstate);
}

/* Lets a connection go without waiting on it: nonblocking, so its Terminate can never block. */
static void abandon(PGconn **conn) {
  if (!*conn) return;
  PQsetnonblocking(*conn, 1);
  PQfinish(*conn);
  *conn = NULL;
}

#include "connect.c"
#include "hosts.c"

/* Connects as an application does (connect.c), within the agent's own deadline; notes the hosts (hosts.c). */
static PGconn *connect_db(result_t *r) {
  PGconn *conn = connect_blocking(r);
  if (!conn) return NULL;
  if (PQstatus(conn) != CONNECTION_OK) {
    set_error(r, NULL, PQerrorMessage(conn));
    if (multi_host()) skipped_from_error(r, PQerrorMessage(conn));
    PQfinish(conn);
    return NULL;
  }
  if (multi_host()) skipped_before(r, conn);
  PQsetNoticeReceiver(conn, on_notice, NULL);
  PQsetnonblocking(conn, 1);
  return conn;
}

/* PgBouncer's refusals before it hands the query to any server: the write cannot have run (as writes.ts). */
static int pooler_refusal(const char *message) {
  static const char *refusals[] = {"server login has been failing", "pgbouncer cannot connect to server", "no more connections allowed",
                                   "query_wait_timeout", "client_login_timeout"};
  for (size_t i = 0; message && i < sizeof refusals / sizeof *refusals; i++)
    if (strstr(message, refusals[i])) return 1;
  return 0;
}

/* Sends the statement and reads its answer within timeoutMs; the connection is dropped after any error. */
static void query(PGconn **connp, long op, result_t *r) {
  PGconn *conn = *connp;
  char id[24], insert[300];
  snprintf(id, sizeof id, "%ld", op + 1);
  snprintf(insert, sizeof insert, "INSERT INTO %s (probe, id) VALUES ($1, $2) RETURNING " SERVER_SQL " AS server", cfg.table);
  const char *params[2] = {cfg.name, id};
  /* A write whose fate is unknown is info: it may have committed. A read that did not answer failed. */
  const char *unknown = cfg.write ? "info" : "fail";
  sync_warning[0] = '\0';
  double deadline = now_ms() + cfg.timeout_ms;
  int sent = cfg.write ? PQsendQueryParams(conn, insert, 2, NULL, params, NULL, NULL, 0)
                       : PQsendQueryParams(conn, SELECT1_SQL, 0, NULL, NULL, NULL, NULL, 0);
  int fd = PQsocket(conn), lost = !sent;
  while (!lost) {
    int flushed = PQflush(conn);
    if (flushed == 0) break;
    if (flushed < 0 || !wait_for(fd, POLLIN | POLLOUT, deadline)) { lost = flushed < 0 ? 1 : 2; break; }
    if (!PQconsumeInput(conn)) lost = 1;
  }
  PGresult *first = NULL;
  while (!lost) {
    while (PQisBusy(conn)) {
      if (!wait_for(fd, POLLIN, deadline)) { lost = 2; break; }
      if (!PQconsumeInput(conn)) break;
    }
    /* A connection that broke mid-answer has no more results to give: PQgetResult could block on it. */
    if (lost || (PQisBusy(conn) && PQstatus(conn) == CONNECTION_BAD)) break;
    PGresult *res = PQgetResult(conn);
    if (!res) break;
    if (!first) first = res;
    else PQclear(res);
  }
  if (lost == 2) {
    r->outcome = unknown;
    r->timed_out = 1;
    char text[120];
    snprintf(text, sizeof text, "no answer within %.0f ms (abandoned)", cfg.timeout_ms);
    set_error(r, NULL, text);
  } else if (!first) {
    r->outcome = unknown;
    set_error(r, NULL, PQerrorMessage(conn));
  } else if (PQresultStatus(first) == PGRES_TUPLES_OK) {
    r->outcome = "ok";
    const char *server = PQntuples(first) > 0 ? PQgetvalue(first, 0, PQfnumber(first, "server")) : NULL;
    if (server && strcmp(server, "local socket")) snprintf(r->server, sizeof r->server, "%s", server);
    if (cfg.write && sync_warning[0]) snprintf(r->error, sizeof r->error, "%s", sync_warning);
  } else {
    const char *sqlstate = PQresultErrorField(first, PG_DIAG_SQLSTATE);
    const char *severity = PQresultErrorField(first, PG_DIAG_SEVERITY_NONLOCALIZED);
    const char *message = PQresultErrorField(first, PG_DIAG_MESSAGE_PRIMARY);
    if (!message) message = PQresultErrorMessage(first);
    /* An ERROR from the server refused the statement (rolled back); FATAL, PANIC or no server word at all: unknown. */
    int refused = pooler_refusal(message) || (sqlstate && severity && !strcmp(severity, "ERROR"));
    r->outcome = refused ? "fail" : unknown;
    set_error(r, sqlstate, message);
  }
  if (first) PQclear(first);
  if (strcmp(r->outcome, "ok") || PQstatus(conn) != CONNECTION_OK || !cfg.held) abandon(connp);
}

static void operation(PGconn **conn, long op) {
  result_t r = {.outcome = "fail"};
  double start = now_ms();
  line_start(&out, "event");
  jb_printf(&out, ",\"event\":{\"kind\":\"invoke\",\"t\":%.3f,\"probe\":", start);
  jb_string(&out, cfg.name);
  jb_printf(&out, ",\"type\":\"%s\",\"worker\":0,\"op\":%ld", cfg.type, op);
  if (cfg.write) jb_printf(&out, ",\"value\":%ld", op + 1);
  jb_raw(&out, "}");
  line_end(&out);

  if (!*conn) *conn = connect_db(&r);
  if (*conn && multi_host()) host_port(r.dialed, sizeof r.dialed, PQhost(*conn), PQport(*conn));
  if (*conn) query(conn, op, &r);

  double end = now_ms();
  line_start(&out, "event");
  jb_printf(&out, ",\"event\":{\"kind\":\"complete\",\"t\":%.3f,\"probe\":", end);
  jb_string(&out, cfg.name);
  jb_printf(&out, ",\"type\":\"%s\",\"worker\":0,\"op\":%ld,\"outcome\":\"%s\",\"latencyMs\":%.3f", cfg.type, op, r.outcome, end - start);
  if (cfg.write) jb_printf(&out, ",\"value\":%ld", op + 1);
  if (r.server[0]) { jb_key(&out, "server"); jb_string(&out, r.server); }
  if (r.error[0]) { jb_key(&out, "error"); jb_string(&out, r.error); }
  if (r.sqlstate[0]) { jb_key(&out, "sqlstate"); jb_string(&out, r.sqlstate); }
  if (r.timed_out) jb_raw(&out, ",\"timedOut\":true");
  if (r.dialed[0]) { jb_key(&out, "dialed"); jb_string(&out, r.dialed); }
  if (r.skipped_count) {
    jb_raw(&out, ",\"skipped\":[");
    for (int i = 0; i < r.skipped_count; i++) { if (i) jb_raw(&out, ","); jb_string(&out, r.skipped[i]); }
    jb_raw(&out, "]");
  }
  jb_raw(&out, "}");
  line_end(&out);
}

/* Bounded: at most ceil(duration / every) + 1 operations, one at a time; an overrun delays the next (no burst). */
static void run_probe(double duration_ms) {
  double start = now_ms(), until = start + duration_ms, next = start;
  long max_ops = (long)ceil(duration_ms / cfg.every_ms) + 1;
  PGconn *conn = NULL;
  for (long op = 0; op < max_ops && next < until && !stop_requested; op++) {
    while (!stop_requested && wait_for(-1, 0, next)) continue;
    if (stop_requested) break;
    operation(&conn, op);
    next += cfg.every_ms;
    if (next < now_ms()) next = now_ms();
  }
  abandon(&conn);
}
