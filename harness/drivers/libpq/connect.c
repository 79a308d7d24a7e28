/*
 * Connecting as an application does (included by agent.c, whose statics it shares). libpq's
 * asynchronous PQconnectPoll leaves connect_timeout to its caller, so the agent calls the blocking
 * PQconnectdbParams, which applies connect_timeout to each host and address and moves on to the next
 * as libpq does for any application. It runs on a worker thread; the main thread waits for it within
 * the agent's own deadline and keeps reading stdin. An attempt that overruns is abandoned: its thread
 * ends when libpq's own timeouts end the attempt, and PQfinishes whatever it got.
 */
#include <netdb.h>
#include <pthread.h>

/* One connection attempt, shared by the main thread and its worker; whoever is last frees it. */
typedef struct {
  pthread_mutex_t lock;
  int abandoned, done;
  PGconn *conn;
  int wake[2]; /* the worker writes a byte to wake[1] when done */
} attempt_t;

/* Abandoned attempts whose threads still wait on libpq: bounded, for a libpq with no timeout of its own (connect_timeout=0). */
#define MAX_ABANDONED 32
static int abandoned_running;

static void *connect_worker(void *arg) {
  attempt_t *a = arg;
  PGconn *conn = PQconnectdbParams(cfg.keywords, cfg.values, 0);
  pthread_mutex_lock(&a->lock);
  int abandoned = a->abandoned;
  if (!abandoned) {
    a->conn = conn;
    a->done = 1;
    if (write(a->wake[1], "", 1) < 0) { /* the main thread polls `done` too */ }
  }
  close(a->wake[1]);
  pthread_mutex_unlock(&a->lock);
  if (abandoned) {
    PQfinish(conn);
    __atomic_sub_fetch(&abandoned_running, 1, __ATOMIC_SEQ_CST);
    pthread_mutex_destroy(&a->lock);
    free(a);
  }
  return NULL;
}

/* The value the connection will get for `keyword` (the settings may have replaced pgdrill's), or NULL. */
static const char *param_value(const char *keyword) {
  for (int i = 0; i < cfg.count; i++)
    if (!strcmp(cfg.keywords[i], keyword)) return cfg.values[i];
  return NULL;
}

/* How many addresses libpq may try: one per hostaddr, else each host name's addresses (a socket path is one). */
static int address_count(void) {
  const char *list = param_value("hostaddr");
  int from_hostaddr = list && *list;
  if (!from_hostaddr) list = param_value("host");
  if (!list) return 1;
  int count = 0;
  char *copy = strdup(list), *save = NULL;
  for (char *name = strtok_r(copy, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *found = NULL;
    int addresses = 0;
    if (!from_hostaddr && *name != '/' && *name != '@' && getaddrinfo(name, NULL, &hints, &found) == 0)
      for (struct addrinfo *ai = found; ai; ai = ai->ai_next) addresses++;
    if (found) freeaddrinfo(found);
    count += addresses > 0 ? addresses : 1;
  }
  free(copy);
  return count > 0 ? count : 1;
}

/*
 * The agent's own deadline for one connect: every address given its whole connect_timeout (libpq raises
 * 1 to 2 s; 0, no limit of libpq's own, gets connectTimeoutMs), then 1 s. libpq itself gives up sooner.
 */
static double connect_deadline_ms(void) {
  const char *given = param_value("connect_timeout");
  int seconds = given ? atoi(given) : 0;
  double per_address = seconds > 0 ? fmax(2, seconds) * 1000 : cfg.connect_timeout_ms;
  return address_count() * per_address + 1000;
}

/*
 * Connects through PQconnectdbParams within cfg.connect_deadline_ms. Returns the connection (status OK or
 * BAD: the caller reads its error) or NULL when the deadline passed first (r says so) or memory ran out.
 */
static PGconn *connect_blocking(result_t *r) {
  if (__atomic_load_n(&abandoned_running, __ATOMIC_SEQ_CST) >= MAX_ABANDONED) {
    set_error(r, NULL, "not connecting: 32 abandoned connection attempts still wait on libpq (is connect_timeout 0?)");
    return NULL;
  }
  attempt_t *a = calloc(1, sizeof *a);
  pthread_t thread;
  pthread_attr_t attr;
  if (!a || pipe(a->wake) != 0) { free(a); set_error(r, NULL, "out of memory or file descriptors"); return NULL; }
  pthread_mutex_init(&a->lock, NULL);
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  int started = pthread_create(&thread, &attr, connect_worker, a) == 0;
  pthread_attr_destroy(&attr);
  if (!started) {
    close(a->wake[0]), close(a->wake[1]), pthread_mutex_destroy(&a->lock), free(a);
    set_error(r, NULL, "could not start a thread to connect");
    return NULL;
  }
  wait_for(a->wake[0], POLLIN, now_ms() + cfg.connect_deadline_ms);
  pthread_mutex_lock(&a->lock);
  int done = a->done;
  PGconn *conn = a->conn;
  if (!done) {
    a->abandoned = 1; /* from now on the worker owns `a` */
    __atomic_add_fetch(&abandoned_running, 1, __ATOMIC_SEQ_CST);
  }
  pthread_mutex_unlock(&a->lock);
  close(a->wake[0]);
  if (done) {
    pthread_mutex_destroy(&a->lock);
    free(a);
    if (!conn) set_error(r, NULL, "out of memory");
    return conn;
  }
  r->timed_out = 1;
  char text[120];
  snprintf(text, sizeof text, "not connected within %.0f ms (abandoned)", cfg.connect_deadline_ms);
  set_error(r, NULL, text);
  return NULL;
}
