/*
 * pgdrill's libpq driver agent (docs/drivers.md): runs one select1 or writes probe through libpq's
 * own connection logic and defaults, and reports every operation on stdout in the line protocol of
 * harness/runner/protocol.ts. It connects as applications do, with the blocking PQconnectdbParams
 * (libpq applies connect_timeout per host and moves on), on a worker thread the main loop waits for
 * within the agent's own deadline (connect.c); statements are asynchronous (PQsendQueryParams, poll()
 * on PQsocket and stdin), so no operation outlives its deadline and a closed stdin (pgdrill gone)
 * ends the agent at once.
 *
 * Input: PGDRILL_AGENT_CONFIG (JSON), the password in PGPASSWORD (libpq reads it itself). Control
 * on stdin, one JSON per line: {"command":"run","durationMs":N}, {"command":"stop"}.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <libpq-fe.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "json.h"

/* ---- clock and output ---- */

static long long t0_ns;
static long seq_no;

static long long monotonic_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ms since t = 0, to the µs. */
static double now_ms(void) { return (double)(monotonic_ns() - t0_ns) / 1e6; }

static void line_start(jbuf *b, const char *type) {
  b->length = 0;
  jb_printf(b, "{\"pgdrill-runner\":1,\"seq\":%ld,\"type\":", ++seq_no);
  jb_string(b, type);
}

static void line_end(jbuf *b) {
  jb_raw(b, "}\n");
  fwrite(b->data, 1, b->length, stdout);
  fflush(stdout);
}

static jbuf out;

static void state_line(const char *state, const char *reason) {
  line_start(&out, "state");
  jb_printf(&out, ",\"t\":%.3f,\"state\":", now_ms());
  jb_string(&out, state);
  if (reason) { jb_key(&out, "reason"); jb_string(&out, reason); }
  line_end(&out);
}

static void error_line(const char *message) {
  line_start(&out, "error");
  jb_printf(&out, ",\"t\":%.3f,\"message\":", now_ms());
  jb_string(&out, message);
  line_end(&out);
}

static void __attribute__((noreturn)) leave(const char *reason, int code) {
  state_line("exiting", reason);
  _exit(code);
}

/* ---- the config ---- */

#define MAX_PARAMS 64
static struct {
  const char *name, *type, *table;
  double every_ms, timeout_ms, connect_timeout_ms, connect_deadline_ms, lifetime_ms;
  int held, write;
  /* PQconnectdbParams' keywords and values; the read's statement_timeout sits in `options`. */
  const char *keywords[MAX_PARAMS + 1], *values[MAX_PARAMS + 1];
  int count;
} cfg;

static char *joined(const jvalue *hosts, const char *field) {
  jbuf b = {0};
  for (size_t i = 0; hosts && i < hosts->count; i++) {
    const jvalue *v = json_get(hosts->items[i], field);
    if (i) jb_raw(&b, ",");
    if (v && v->type == J_STRING) jb_raw(&b, v->string);
    else if (v && v->type == J_NUMBER) jb_printf(&b, "%.0f", v->number);
  }
  return b.data ? b.data : strdup("");
}

static void param(const char *keyword, const char *value) {
  for (int i = 0; i < cfg.count; i++)
    if (!strcmp(cfg.keywords[i], keyword)) { cfg.values[i] = value; return; }
  if (cfg.count == MAX_PARAMS) { error_line("too many connection settings"); leave("bad config", 2); }
  cfg.keywords[cfg.count] = keyword;
  cfg.values[cfg.count++] = value;
}

/* Whether libpq knows `keyword` (PQconndefaults lists every one it accepts). */
static int known_keyword(const char *keyword) {
  PQconninfoOption *options = PQconndefaults();
  int known = 0;
  for (PQconninfoOption *o = options; o && o->keyword; o++) known |= !strcmp(o->keyword, keyword);
  PQconninfoFree(options);
  return known;
}

static void refuse(const char *what) {
  char message[400];
  snprintf(message, sizeof message, "%s", what);
  error_line(message);
  leave("bad config", 2);
}

static void read_config(void) {
  const char *text = getenv("PGDRILL_AGENT_CONFIG"), *problem = NULL;
  if (!text) refuse("PGDRILL_AGENT_CONFIG is not set: the agent is started by pgdrill (docs/drivers.md)");
  jvalue *root = json_parse(text, &problem);
  if (!root) {
    char message[200];
    snprintf(message, sizeof message, "PGDRILL_AGENT_CONFIG is not JSON: %s", problem);
    refuse(message);
  }
  if (json_number(root, "protocol", 0) != 1) refuse("PGDRILL_AGENT_CONFIG: protocol must be 1");
  const jvalue *probe = json_get(root, "probe"), *target = json_get(root, "target");
  cfg.name = json_string(probe, "name", NULL);
  cfg.type = json_string(probe, "type", NULL);
  cfg.table = json_string(probe, "table", NULL);
  if (!cfg.name || !cfg.type || (strcmp(cfg.type, "select1") && strcmp(cfg.type, "write")))
    refuse("PGDRILL_AGENT_CONFIG: probe.name and probe.type (select1 or write) are required");
  cfg.write = !strcmp(cfg.type, "write");
  if (cfg.write && !cfg.table) refuse("PGDRILL_AGENT_CONFIG: probe.table is required for writes");
  cfg.every_ms = json_number(probe, "everyMs", 100);
  cfg.timeout_ms = json_number(probe, "timeoutMs", 1000);
  cfg.connect_timeout_ms = json_number(probe, "connectTimeoutMs", 1000);
  cfg.held = !strcmp(json_string(probe, "connection", "fresh"), "held");
  cfg.lifetime_ms = json_number(root, "lifetimeMs", 3600000);
  if (cfg.every_ms <= 0 || cfg.timeout_ms <= 0 || cfg.connect_timeout_ms <= 0) refuse("PGDRILL_AGENT_CONFIG: times must be > 0");

  const jvalue *hosts = json_get(target, "hosts");
  if (!hosts || hosts->type != J_ARRAY || hosts->count == 0) refuse("PGDRILL_AGENT_CONFIG: target.hosts must list at least one host");
  param("host", joined(hosts, "host"));
  param("port", joined(hosts, "port"));
  param("dbname", json_string(target, "database", "postgres"));
  param("user", json_string(target, "user", "postgres"));
  const char *attrs = json_string(target, "targetSessionAttrs", NULL);
  if (attrs) param("target_session_attrs", attrs);
  const char *balance = json_string(target, "loadBalanceHosts", NULL);
  if (balance && strcmp(balance, "disable")) {
    if (!known_keyword("load_balance_hosts")) refuse("loadBalanceHosts: this libpq has no load_balance_hosts (PostgreSQL 16+ libpq)");
    param("load_balance_hosts", balance);
  }
  const char *sslmode = json_string(target, "sslmode", NULL);
  if (sslmode) param("sslmode", sslmode);
  /* libpq's connect_timeout is whole seconds, and it treats less than 2 as 2. */
  char *timeout = malloc(24), *name = malloc(strlen(cfg.name) + 9);
  snprintf(timeout, 24, "%d", (int)fmax(2, ceil(cfg.connect_timeout_ms / 1000)));
  param("connect_timeout", timeout);
  sprintf(name, "pgdrill-%s", cfg.name);
  param("application_name", name);

  /* The settings pass through untouched: an unknown keyword ends the agent, naming it. */
  const jvalue *settings = json_get(root, "settings");
  for (size_t i = 0; settings && settings->type == J_OBJECT && i < settings->count; i++) {
    const char *keyword = settings->keys[i];
    const jvalue *v = settings->items[i];
    if (!known_keyword(keyword) || !strcmp(keyword, "password")) {
      char message[300];
      snprintf(message, sizeof message, "setting \"%.100s\" is not a libpq connection keyword this libpq (%d) accepts", keyword,
               PQlibVersion());
      refuse(message);
    }
    jbuf b = {0};
    if (v->type == J_STRING) jb_raw(&b, v->string);
    else if (v->type == J_BOOL) jb_raw(&b, v->boolean ? "1" : "0");
    else if (v->type == J_NUMBER) jb_printf(&b, "%.15g", v->number);
    else refuse("settings: values are strings, numbers or booleans");
    param(keyword, b.data);
  }
  /* Reads get a server-side statement_timeout, added to any options the settings gave. */
  if (!cfg.write) {
    const char *given = NULL;
    for (int i = 0; i < cfg.count; i++)
      if (!strcmp(cfg.keywords[i], "options")) given = cfg.values[i];
    jbuf b = {0};
    jb_printf(&b, "%s%s-c statement_timeout=%.0f", given ? given : "", given ? " " : "", cfg.timeout_ms);
    param("options", b.data);
  }
  cfg.keywords[cfg.count] = NULL;
  cfg.values[cfg.count] = NULL;
}

/* ---- stdin and waiting ---- */

static char inbuf[4096];
static size_t inlen;
static int stop_requested;
static double run_duration_ms = -1;

static void command(const char *text) {
  const char *problem = NULL;
  jvalue *v = json_parse(text, &problem);
  const char *name = json_string(v, "command", "");
  if (!strcmp(name, "run") && run_duration_ms < 0) run_duration_ms = json_number(v, "durationMs", 0);
  else if (!strcmp(name, "stop")) stop_requested = 1;
  else if (*text) {
    char message[200];
    snprintf(message, sizeof message, "unknown command on stdin: %.120s", text);
    error_line(message);
  }
  json_free(v);
}

static void read_stdin(void) {
  ssize_t n = read(0, inbuf + inlen, sizeof inbuf - 1 - inlen);
  if (n == 0) leave("stdin closed", 0);
  if (n < 0) {
    if (errno == EINTR || errno == EAGAIN) return;
    leave("stdin failed", 1);
  }
  inlen += (size_t)n;
  inbuf[inlen] = '\0';
  char *newline;
  while ((newline = strchr(inbuf, '\n'))) {
    *newline = '\0';
    command(inbuf);
    inlen -= (size_t)(newline + 1 - inbuf);
    memmove(inbuf, newline + 1, inlen + 1);
  }
  if (inlen == sizeof inbuf - 1) inlen = 0; /* a line that long is no command */
}

/*
 * Waits until `fd` is ready for `events`, reading stdin meanwhile. 1: ready; 0: `deadline` (ms) passed.
 * With fd < 0 it also returns 1 after reading a command. Leaves the process on stdin's EOF or at its lifetime.
 */
static int wait_for(int fd, short events, double deadline) {
  for (;;) {
    double now = now_ms();
    if (now >= cfg.lifetime_ms) leave("lifetime", 0);
    double until = fmin(deadline, cfg.lifetime_ms);
    if (now >= until) return 0;
    struct pollfd fds[2] = {{0, POLLIN, 0}, {fd, events, 0}};
    int ready = poll(fds, fd >= 0 ? 2 : 1, (int)ceil(until - now));
    if (ready < 0 && errno != EINTR) leave("poll failed", 1);
    if (ready <= 0) continue;
    if (fds[0].revents) {
      read_stdin();
      if (fd < 0) return 1;
    }
    if (fd >= 0 && fds[1].revents) return 1;
  }
}

#include "operation.c"

int main(void) {
  t0_ns = monotonic_ns();
  char iso[40];
  struct timespec wall;
  clock_gettime(CLOCK_REALTIME, &wall);
  struct tm tm;
  gmtime_r(&wall.tv_sec, &tm);
  size_t n = strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(iso + n, sizeof iso - n, ".%03ldZ", wall.tv_nsec / 1000000);
  read_config();
  cfg.connect_deadline_ms = connect_deadline_ms();
  int version = PQlibVersion();
  line_start(&out, "hello");
  jb_printf(&out, ",\"t\":0,\"wallClock\":\"%s\",\"monotonicNs\":\"%lld\",\"version\":\"libpq %d.%d\",\"probes\":[", iso, t0_ns,
            version / 10000, version % 100);
  jb_string(&out, cfg.name);
  jb_printf(&out, "],\"controlPort\":0,\"runtime\":{\"node\":\"C (gcc %s)\",\"uid\":%u}", __VERSION__, (unsigned)getuid());
  jb_printf(&out, ",\"connectDeadlineMs\":%.0f", cfg.connect_deadline_ms);
  line_end(&out);

  while (run_duration_ms < 0 && !stop_requested) wait_for(-1, 0, cfg.lifetime_ms);
  if (stop_requested) leave("stopped before running", 0);
  state_line("running", NULL);
  run_probe(run_duration_ms);
  state_line("probes-done", NULL);
  leave("done", 0);
}
