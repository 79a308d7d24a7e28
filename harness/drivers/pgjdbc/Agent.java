/*
 * pgdrill's pgjdbc driver agent: runs one probe (select1 or writes) through pgjdbc's own connection
 * logic and defaults, and reports every operation as History events on stdout, in the in-cluster
 * probe runner's line protocol (docs/drivers-pgjdbc-psycopg.md has the contract). Java 17, no
 * dependency but the pinned pgjdbc jar: the JSON reader and writer are the small ones below.
 *
 * pgjdbc without socketTimeout waits on a silent server for as long as the kernel keeps the socket
 * (pgjdbc#1556: isValid hanging ~15 minutes after an RDS failover), so every operation runs on a
 * worker thread that the loop waits for only until the contract's deadline; past it the connection
 * is aborted on another thread and the operation recorded `timedOut`.
 */
import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.postgresql.PGProperty;
import org.postgresql.util.DriverInfo;
import org.postgresql.util.PSQLException;

public final class Agent {
  static final long T0 = System.nanoTime();
  static final String SERVER_SQL = "coalesce(host(inet_server_addr()) || ':' || inet_server_port(), 'local socket')";
  static final OutputStream OUT = new FileOutputStream(FileDescriptor.out);
  static long seq = 0;
  static boolean exiting = false;
  static String password = System.getenv("PGPASSWORD");

  // The probe and target, from PGDRILL_AGENT_CONFIG.
  static String name = "?", type, connection, table, url;
  static long everyMs, timeoutMs, connectTimeoutMs, connectDeadlineMs, lifetimeMs;
  static final Properties props = new Properties();
  static final List<String> settingsGiven = new ArrayList<>();

  // The loop's state: `stop` ends it after the operation in flight; `held` is the held connection, if any.
  static final Object LOOP = new Object();
  static boolean stop = false, ran = false;
  static Connection held;

  public static void main(String[] args) throws Exception {
    String problem = null;
    try {
      configure(System.getenv("PGDRILL_AGENT_CONFIG"));
    } catch (RuntimeException e) {
      problem = e.getMessage();
    }
    warmUp();
    long ns = System.nanoTime() - T0;
    emit(map("type", "hello", "t", ms(ns), "wallClock", Instant.now().minusNanos(ns).truncatedTo(ChronoUnit.MILLIS).toString(),
        "monotonicNs", String.valueOf(T0), "version", "pgjdbc " + DriverInfo.DRIVER_VERSION, "probes", List.of(name), "controlPort", 0,
        "runtime", map("node", "java " + System.getProperty("java.version"), "uid", uid()),
        "connectDeadlineMs", connectDeadlineMs > 0 ? connectDeadlineMs : null));
    if (problem == null) problem = refusedSetting();
    if (problem != null) {
      error(problem);
      exit(2, "its configuration was refused");
    }
    daemon("lifetime", () -> {
      sleepNs(lifetimeMs * 1_000_000L);
      exit(0, "its lifetime of " + lifetimeMs + " ms is over");
    });
    BufferedReader stdin = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String line; (line = stdin.readLine()) != null; ) command(line);
    exit(0, "stdin closed");
  }

  /**
   * Loads and initialises the driver's classes before hello, so the first operation does not pay the JVM's cold start (~0.5 s of class
   * loading) as latency: an application's pool has done that long before a failover. No connection is made.
   */
  static void warmUp() {
    String[] classes = {"org.postgresql.Driver", "org.postgresql.jdbc.PgConnection", "org.postgresql.jdbc.PgPreparedStatement",
        "org.postgresql.jdbc.PgResultSet", "org.postgresql.core.v3.ConnectionFactoryImpl", "org.postgresql.core.v3.QueryExecutorImpl",
        "org.postgresql.core.v3.ScramAuthenticator", "org.postgresql.util.PSQLException"};
    for (String name : classes) {
      try {
        Class.forName(name, true, Agent.class.getClassLoader());
      } catch (Throwable ignored) {
        // Only a head start: a class that is not there is loaded (or missed) by the driver itself.
      }
    }
    try {
      // SCRAM's key derivation is 4096 HMAC-SHA-256 rounds: slow until the JIT has compiled them.
      javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
      mac.init(new javax.crypto.spec.SecretKeySpec(new byte[32], "HmacSHA256"));
      byte[] block = new byte[32];
      for (int round = 0; round < 20_000; round++) block = mac.doFinal(block);
      new java.security.SecureRandom().nextInt();
    } catch (Exception ignored) {
      // As above.
    }
  }

  /** One control line: run starts the loop (once), stop ends it after the operation in flight. */
  static void command(String line) {
    if (line.isBlank()) return;
    try {
      Map<?, ?> command = (Map<?, ?>) new Json(line).parse();
      Object what = command.get("command");
      if ("stop".equals(what)) {
        synchronized (LOOP) {
          stop = true;
          LOOP.notifyAll();
        }
      } else if ("run".equals(what)) {
        long durationMs = num(command, "durationMs");
        if (durationMs <= 0) throw new IllegalArgumentException("durationMs must be a positive number of ms");
        synchronized (LOOP) {
          if (ran) throw new IllegalArgumentException("already ran: an agent runs its probe once");
          ran = true;
        }
        daemon("loop", () -> {
          loop(durationMs);
          exit(0, "probes done");
        });
      } else throw new IllegalArgumentException("unknown command " + Json.write(what) + ": run or stop");
    } catch (RuntimeException e) {
      error("control line refused: " + e.getMessage());
    }
  }

  /** The operations, one at a time every everyMs; one that overruns delays the next (no catch-up burst). */
  static void loop(long durationMs) {
    state("running", null);
    long start = System.nanoTime(), until = start + durationMs * 1_000_000L, next = start;
    long maxOps = (durationMs + everyMs - 1) / everyMs + 1;
    for (long op = 0; op < maxOps && next < until; op++) {
      synchronized (LOOP) {
        for (long wait; !stop && (wait = next - System.nanoTime()) > 0; ) waitNs(LOOP, wait);
        if (stop) break;
      }
      operation(op);
      next += everyMs * 1_000_000L;
      next = Math.max(next, System.nanoTime());
    }
    if (held != null) abandon(held);
    state("probes-done", null);
  }

  /** What an operation's worker reports; guarded by itself. */
  static final class Attempt {
    final long startNs = System.nanoTime();
    long sentNs = 0;
    boolean done = false, abandoned = false;
    Connection conn;
    String outcome, server, error, sqlstate;
  }

  static void operation(long op) {
    boolean write = type.equals("write");
    Long id = write ? op + 1 : null;
    Map<String, Object> identity = map("probe", name, "type", type, "worker", 0, "op", op);
    Map<String, Object> invoke = map("kind", "invoke", "t", t());
    invoke.putAll(identity);
    if (id != null) invoke.put("value", id);
    emit(map("type", "event", "event", invoke));
    Attempt a = new Attempt();
    Connection reuse = held;
    daemon("op-" + op, () -> work(a, reuse, id));
    boolean timedOut = false;
    String outcome, server, error, sqlstate;
    Connection conn;
    synchronized (a) {
      while (!a.done) {
        long deadline = a.sentNs == 0 ? a.startNs + connectDeadlineMs * 1_000_000L : a.sentNs + timeoutMs * 1_000_000L;
        long wait = deadline - System.nanoTime();
        if (wait <= 0) {
          timedOut = true;
          a.abandoned = true;
          boolean sent = a.sentNs != 0;
          a.outcome = write && sent ? "info" : "fail";
          a.error = sent ? "no answer within " + timeoutMs + " ms: connection abandoned"
              : "not connected within " + connectDeadlineMs + " ms: connection abandoned";
          a.sqlstate = null;
          a.server = null;
          if (a.conn != null) abandon(a.conn);
          break;
        }
        waitNs(a, wait);
      }
      // Read under the lock: an abandoned worker may still finish later, and must change nothing.
      outcome = a.outcome;
      server = a.server;
      error = a.error;
      sqlstate = a.sqlstate;
      conn = a.conn;
    }
    long end = System.nanoTime();
    // held: keep the connection after an ok, drop it after anything else (the worker already aborts it after an error).
    held = connection.equals("held") && "ok".equals(outcome) && error == null ? conn : null;
    if (connection.equals("held") && held == null && conn != null && !timedOut) abandon(conn);
    Map<String, Object> complete = map("kind", "complete", "t", ms(end - T0));
    complete.putAll(identity);
    complete.putAll(map("outcome", outcome, "latencyMs", ms(end - a.startNs), "server", server, "value", id, "error", error,
        "sqlstate", sqlstate, "timedOut", timedOut ? Boolean.TRUE : null));
    emit(map("type", "event", "event", complete));
  }

  /** The operation itself, on its worker thread: connect (unless held), then the statement. */
  static void work(Attempt a, Connection reuse, Long id) {
    Connection conn = reuse;
    if (conn == null) {
      try {
        conn = DriverManager.getConnection(url, props);
      } catch (Throwable e) {
        finish(a, "fail", null, e); // never reached the server: not written
        return;
      }
    }
    synchronized (a) {
      a.conn = conn;
      if (a.abandoned) {
        abandon(conn);
        return;
      }
      a.sentNs = System.nanoTime();
      a.notifyAll(); // the loop now waits for timeoutMs from here
    }
    String sql = id == null ? "SELECT 1 AS one, " + SERVER_SQL + " AS server"
        : "INSERT INTO " + table + " (probe, id) VALUES (?, ?) RETURNING " + SERVER_SQL + " AS server";
    try (PreparedStatement statement = conn.prepareStatement(sql)) {
      if (id != null) {
        statement.setString(1, name);
        statement.setLong(2, id);
      }
      String server;
      try (ResultSet rows = statement.executeQuery()) {
        server = rows.next() ? rows.getString("server") : null;
      }
      String warning = null;
      for (SQLWarning w = statement.getWarnings(); w != null; w = w.getNextWarning()) {
        String text = String.valueOf(w.getMessage());
        if (text.toLowerCase().contains("synchronous replication")) warning = "WARNING " + firstLine(text);
      }
      synchronized (a) {
        if (a.abandoned) {
          abandon(conn);
          return;
        }
        a.server = "local socket".equals(server) ? null : server;
        // A cancelled synchronous-replication wait: the application saw its commit succeed, so it is acknowledged (ok), the
        // warning kept beside it, as pgdrill's own writes probe records it: a later loss is a lost acknowledged write.
        a.outcome = "ok";
        a.error = warning == null ? null : shorten(warning);
        a.done = true;
        a.notifyAll();
      }
    } catch (Throwable e) {
      finish(a, id == null ? "fail" : writeOutcome(e), conn, e);
      return;
    }
    if (connection.equals("fresh")) close(conn);
  }

  /**
   * A write's error: the server refused the statement (an ERROR: it rolled back) is fail; a FATAL or
   * PANIC mid-statement (57P01 admin_shutdown…) or a connection lost after sending is unknown: info.
   */
  static String writeOutcome(Throwable e) {
    if (e instanceof PSQLException p && p.getServerErrorMessage() != null) {
      String state = p.getSQLState();
      if (state != null && (state.startsWith("08") || state.startsWith("57P"))) return "info";
      return "ERROR".equals(p.getServerErrorMessage().getSeverity()) ? "fail" : "info";
    }
    return "info";
  }

  static void finish(Attempt a, String outcome, Connection conn, Throwable e) {
    synchronized (a) {
      if (!a.abandoned) {
        a.outcome = outcome;
        a.sqlstate = e instanceof SQLException s ? s.getSQLState() : null;
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : firstLine(e.getMessage());
        a.error = shorten((a.sqlstate == null ? "" : a.sqlstate + " ") + message);
        a.done = true;
        a.notifyAll();
      }
    }
    if (conn != null) abandon(conn);
  }

  /** Closes a connection on another thread: abort() closes its socket, so a hung driver cannot hold us. */
  static void abandon(Connection conn) {
    daemon("abandon", () -> {
      try {
        conn.abort(Runnable::run);
      } catch (Throwable ignored) {
        // Already closed or broken: nothing left to free.
      }
    });
  }

  static void close(Connection conn) {
    try {
      conn.close();
    } catch (Throwable ignored) {
      // Closing a broken connection: nothing left to free.
    }
  }

  /** Reads the config; the target as a pgjdbc URL and properties, as the contract maps it. */
  static void configure(String text) {
    if (text == null || text.isBlank()) throw new IllegalArgumentException("PGDRILL_AGENT_CONFIG is not set: it holds the config JSON");
    Map<?, ?> config = obj(new Json(text).parse(), "the config");
    if (num(config, "protocol") != 1) throw new IllegalArgumentException("config.protocol must be 1");
    Map<?, ?> probe = obj(config.get("probe"), "config.probe");
    Map<?, ?> target = obj(config.get("target"), "config.target");
    name = str(probe, "name", true);
    type = str(probe, "type", true);
    if (!type.equals("select1") && !type.equals("write")) throw new IllegalArgumentException("config.probe.type must be select1 or write");
    connection = str(probe, "connection", true);
    if (!connection.equals("fresh") && !connection.equals("held")) {
      throw new IllegalArgumentException("config.probe.connection must be fresh or held");
    }
    everyMs = Math.max(1, num(probe, "everyMs"));
    timeoutMs = num(probe, "timeoutMs");
    connectTimeoutMs = num(probe, "connectTimeoutMs");
    lifetimeMs = num(config, "lifetimeMs");
    table = type.equals("write") ? str(probe, "table", true) : null;
    StringBuilder hosts = new StringBuilder();
    if (!(target.get("hosts") instanceof List<?> list) || list.isEmpty()) {
      throw new IllegalArgumentException("config.target.hosts must be a non-empty list of {host, port}");
    }
    for (Object item : list) {
      Map<?, ?> host = obj(item, "config.target.hosts[]");
      String h = str(host, "host", true);
      hosts.append(hosts.length() == 0 ? "" : ",").append(h.contains(":") ? "[" + h + "]" : h).append(':').append(num(host, "port"));
    }
    url = "jdbc:postgresql://" + hosts + "/" + java.net.URLEncoder.encode(str(target, "database", true), StandardCharsets.UTF_8);
    props.setProperty("user", str(target, "user", true));
    if (password != null) props.setProperty("password", password);
    props.setProperty("ApplicationName", "pgdrill-" + name);
    props.setProperty("connectTimeout", String.valueOf(Math.max(1, (connectTimeoutMs + 999) / 1000)));
    String attrs = str(target, "targetSessionAttrs", false);
    if (attrs != null) props.setProperty("targetServerType", switch (attrs) {
      case "any" -> "any";
      case "read-write", "primary" -> "primary";
      case "read-only", "standby" -> "secondary";
      case "prefer-standby" -> "preferSecondary";
      default -> throw new IllegalArgumentException("config.target.targetSessionAttrs " + Json.write(attrs) + " is not libpq's");
    });
    if ("random".equals(str(target, "loadBalanceHosts", false))) props.setProperty("loadBalanceHosts", "true");
    String sslmode = str(target, "sslmode", false);
    if (sslmode != null) props.setProperty("sslmode", sslmode);
    // Reads get a server-side statement_timeout; writes do not (a cancelled synchronous-replication wait still commits).
    if (type.equals("select1")) props.setProperty("options", "-c statement_timeout=" + timeoutMs);
    Object settings = config.get("settings");
    if (settings != null) {
      for (Map.Entry<?, ?> setting : obj(settings, "config.settings").entrySet()) {
        String key = String.valueOf(setting.getKey()), value = String.valueOf(setting.getValue());
        if (key.equals("options") && props.containsKey("options")) value = props.getProperty("options") + " " + value;
        settingsGiven.add(key);
        props.setProperty(key, value);
      }
    }
    connectDeadlineMs = list.size() * (seconds("connectTimeout", connectTimeoutMs) + 2 * seconds("socketTimeout", 0)) + 1000;
  }

  /**
   * One host's share of the agent's connect deadline, in ms, from a pgjdbc property in seconds (0: none of pgjdbc's own, `otherwise`).
   * pgjdbc moves on after connectTimeout (the TCP connect) and, when set, socketTimeout on each read of the startup (twice with
   * sslmode=prefer); a host that accepts and never answers holds it with no socketTimeout: the agent's deadline ends that.
   */
  static long seconds(String property, long otherwise) {
    try {
      long value = Long.parseLong(props.getProperty(property, "0").trim());
      return value > 0 ? value * 1000 : otherwise;
    } catch (NumberFormatException e) {
      return otherwise; // refused by refusedSetting()
    }
  }

  /** pgjdbc ignores properties it does not know: the agent refuses them itself, by pgjdbc's own list and types. */
  static String refusedSetting() {
    for (String key : settingsGiven) {
      String value = props.getProperty(key);
      if (key.equals("user") || key.equals("password")) {
        return "setting \"" + key + "\" refused: the user is config.target.user and the password comes from PGPASSWORD";
      }
      PGProperty property = PGProperty.forName(key);
      if (property == null) {
        return "setting \"" + key + "\" refused: pgjdbc " + DriverInfo.DRIVER_VERSION + " has no such connection property";
      }
      String[] choices = property.getChoices();
      if (choices != null) {
        for (String part : value.split(",")) {
          if (!List.of(choices).contains(part)) return "setting \"" + key + "\" refused: pgjdbc takes one of " + String.join(", ", choices);
        }
      }
      String fallback = property.getDefaultValue();
      if (fallback != null && fallback.matches("-?\\d+") && !value.matches("-?\\d+")) {
        return "setting \"" + key + "\" refused: pgjdbc takes a whole number";
      }
      if (("true".equals(fallback) || "false".equals(fallback)) && !value.equals("true") && !value.equals("false")) {
        return "setting \"" + key + "\" refused: pgjdbc takes true or false";
      }
    }
    return null;
  }

  static void state(String state, String reason) {
    emit(map("type", "state", "t", t(), "state", state, "reason", reason));
  }

  static void error(String message) {
    emit(map("type", "error", "t", t(), "message", shorten(message)));
  }

  /** The last line, once, whatever called it (the loop, stdin's end, the lifetime); halt: no hung thread can hold the exit. */
  static void exit(int code, String reason) {
    synchronized (OUT) {
      if (exiting) return;
      state("exiting", reason);
      exiting = true;
    }
    Runtime.getRuntime().halt(code);
  }

  /** One line: the protocol's tag and seq first, then the body; flushed at once. */
  static void emit(Map<String, Object> body) {
    synchronized (OUT) {
      if (exiting) return;
      Map<String, Object> line = map("pgdrill-runner", 1, "seq", ++seq);
      line.putAll(body);
      try {
        OUT.write((Json.write(line) + "\n").getBytes(StandardCharsets.UTF_8));
        OUT.flush();
      } catch (IOException e) {
        Runtime.getRuntime().halt(3); // nobody reads us any more
      }
    }
  }

  /** ms since t = 0, with µs precision, as an exact decimal. */
  static Json.Raw t() {
    return ms(System.nanoTime() - T0);
  }

  static Json.Raw ms(long ns) {
    long us = Math.round(ns / 1000.0);
    return new Json.Raw((us < 0 ? "-" : "") + Math.abs(us) / 1000 + "." + String.format("%03d", Math.abs(us) % 1000));
  }

  /** Short, one line, never the password. */
  static String shorten(String text) {
    if (password != null && !password.isEmpty()) text = text.replace(password, "********");
    return text.length() > 200 ? text.substring(0, 197) + "..." : text;
  }

  static String firstLine(String text) {
    int end = text.indexOf('\n');
    return (end < 0 ? text : text.substring(0, end)).trim();
  }

  static Object uid() {
    try {
      return Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    } catch (Exception e) {
      return null;
    }
  }

  static void daemon(String name, Runnable body) {
    Thread thread = new Thread(body, "pgdrill-" + name);
    thread.setDaemon(true);
    thread.start();
  }

  static void sleepNs(long ns) {
    try {
      Thread.sleep(ns / 1_000_000L, (int) (ns % 1_000_000L));
    } catch (InterruptedException ignored) {
      Thread.currentThread().interrupt();
    }
  }

  static void waitNs(Object monitor, long ns) {
    try {
      monitor.wait(Math.max(1, ns / 1_000_000L));
    } catch (InterruptedException ignored) {
      Thread.currentThread().interrupt();
    }
  }

  static Map<String, Object> map(Object... pairs) {
    Map<String, Object> map = new LinkedHashMap<>();
    for (int i = 0; i < pairs.length; i += 2) if (pairs[i + 1] != null) map.put((String) pairs[i], pairs[i + 1]);
    return map;
  }

  static Map<?, ?> obj(Object value, String what) {
    if (value instanceof Map<?, ?> map) return map;
    throw new IllegalArgumentException(what + " must be a JSON object");
  }

  static String str(Map<?, ?> map, String key, boolean required) {
    Object value = map.get(key);
    if (value instanceof String text) return text;
    if (value == null && !required) return null;
    throw new IllegalArgumentException("\"" + key + "\" must be a string");
  }

  static long num(Map<?, ?> map, String key) {
    if (map.get(key) instanceof Double value && value >= 0) return (long) Math.ceil(value);
    throw new IllegalArgumentException("\"" + key + "\" must be a number, at least 0");
  }

  /** A small JSON reader (objects, arrays, strings, numbers as Double, true, false, null) and writer. */
  static final class Json {
    record Raw(String text) {}

    final String s;
    int i = 0;

    Json(String s) {
      this.s = s;
    }

    Object parse() {
      Object value = value();
      skip();
      if (i != s.length()) throw fail("text after the value");
      return value;
    }

    Object value() {
      skip();
      if (i >= s.length()) throw fail("a value");
      char c = s.charAt(i);
      if (c == '{') {
        Map<String, Object> map = new LinkedHashMap<>();
        i++;
        skip();
        if (peek('}')) return map;
        do {
          skip();
          if (i >= s.length() || s.charAt(i) != '"') throw fail("a string key");
          String key = string();
          skip();
          expect(':');
          map.put(key, value());
          skip();
        } while (peek(','));
        expect('}');
        return map;
      }
      if (c == '[') {
        List<Object> list = new ArrayList<>();
        i++;
        skip();
        if (peek(']')) return list;
        do list.add(value());
        while (peek(','));
        expect(']');
        return list;
      }
      if (c == '"') return string();
      for (String word : new String[] {"true", "false", "null"}) {
        if (s.startsWith(word, i)) {
          i += word.length();
          return word.equals("null") ? null : Boolean.valueOf(word);
        }
      }
      int start = i;
      while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) i++;
      try {
        return Double.valueOf(s.substring(start, i));
      } catch (NumberFormatException e) {
        throw fail("a value");
      }
    }

    String string() {
      StringBuilder out = new StringBuilder();
      i++; // the opening quote
      while (true) {
        if (i >= s.length()) throw fail("the end of a string");
        char c = s.charAt(i++);
        if (c == '"') return out.toString();
        if (c != '\\') {
          out.append(c);
          continue;
        }
        if (i >= s.length()) throw fail("an escape");
        char e = s.charAt(i++);
        switch (e) {
          case '"', '\\', '/' -> out.append(e);
          case 'b' -> out.append('\b');
          case 'f' -> out.append('\f');
          case 'n' -> out.append('\n');
          case 'r' -> out.append('\r');
          case 't' -> out.append('\t');
          case 'u' -> {
            if (i + 4 > s.length()) throw fail("four hex digits");
            out.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
            i += 4;
          }
          default -> throw fail("a valid escape");
        }
      }
    }

    void skip() {
      while (i < s.length() && " \t\r\n".indexOf(s.charAt(i)) >= 0) i++;
    }

    boolean peek(char c) {
      skip();
      if (i < s.length() && s.charAt(i) == c) {
        i++;
        return true;
      }
      return false;
    }

    void expect(char c) {
      if (!peek(c)) throw fail("'" + c + "'");
    }

    IllegalArgumentException fail(String wanted) {
      return new IllegalArgumentException("bad JSON: expected " + wanted + " at character " + i);
    }

    static String write(Object value) {
      if (value == null) return "null";
      if (value instanceof Raw raw) return raw.text();
      if (value instanceof Boolean || value instanceof Integer || value instanceof Long) return value.toString();
      if (value instanceof Map<?, ?> map) {
        StringBuilder out = new StringBuilder("{");
        for (Map.Entry<?, ?> entry : map.entrySet()) {
          if (out.length() > 1) out.append(',');
          out.append(write(String.valueOf(entry.getKey()))).append(':').append(write(entry.getValue()));
        }
        return out.append('}').toString();
      }
      if (value instanceof List<?> list) {
        StringBuilder out = new StringBuilder("[");
        for (Object item : list) out.append(out.length() > 1 ? "," : "").append(write(item));
        return out.append(']').toString();
      }
      // Strings (and anything else, as its text): every control and non-ASCII character escaped, so the line is ASCII.
      String text = value.toString();
      StringBuilder out = new StringBuilder("\"");
      for (int k = 0; k < text.length(); k++) {
        char c = text.charAt(k);
        if (c == '"' || c == '\\') out.append('\\').append(c);
        else if (c == '\n') out.append("\\n");
        else if (c < 0x20 || c > 0x7e) out.append(String.format("\\u%04x", (int) c));
        else out.append(c);
      }
      return out.append('"').toString();
    }
  }
}
