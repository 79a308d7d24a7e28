/*
 * One operation of the probe (a select1 or a tracked write) and its outcome, as harness/probe/select1.ts and writes.ts record
 * them. pgjdbc without socketTimeout waits on a silent server for as long as the kernel keeps the socket (pgjdbc#1556: isValid
 * hanging ~15 minutes after an RDS failover), so the operation runs on a worker thread that the loop waits for only until the
 * contract's deadline; past it the connection is aborted on another thread and the operation recorded `timedOut`.
 */
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.util.Map;
import org.postgresql.util.PSQLException;

final class Operation {
  private Operation() {}

  static final String SERVER_SQL = "coalesce(host(inet_server_addr()) || ':' || inet_server_port(), 'local socket')";

  /** The held connection, if any (connection: held); only the loop's thread reads and sets it. */
  static Connection held;

  /** What an operation's worker reports; guarded by itself. */
  static final class Attempt {
    final long startNs = System.nanoTime();
    long sentNs = 0;
    boolean done = false, abandoned = false;
    Connection conn;
    String outcome, server, error, sqlstate;
  }

  /** Operation `op`: its invoke line, the work on a worker thread waited for until its deadline, its complete line. */
  static void run(long op) {
    boolean write = Config.type.equals("write");
    Long id = write ? op + 1 : null;
    Map<String, Object> identity = Lines.map("probe", Config.name, "type", Config.type, "worker", 0, "op", op);
    Map<String, Object> invoke = Lines.map("kind", "invoke", "t", Lines.t());
    invoke.putAll(identity);
    if (id != null) invoke.put("value", id);
    Lines.emit(Lines.map("type", "event", "event", invoke));
    Attempt a = new Attempt();
    Connection reuse = held;
    Agent.daemon("op-" + op, () -> work(a, reuse, id));
    boolean timedOut = false;
    String outcome, server, error, sqlstate;
    Connection conn;
    long timeoutMs = Config.timeoutMs, connectDeadlineMs = Config.connectDeadlineMs;
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
        Agent.waitNs(a, wait);
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
    boolean holds = Config.connection.equals("held");
    held = holds && "ok".equals(outcome) && error == null ? conn : null;
    if (holds && held == null && conn != null && !timedOut) abandon(conn);
    Map<String, Object> complete = Lines.map("kind", "complete", "t", Lines.ms(end - Agent.T0));
    complete.putAll(identity);
    complete.putAll(Lines.map("outcome", outcome, "latencyMs", Lines.ms(end - a.startNs), "server", server, "value", id, "error", error,
        "sqlstate", sqlstate, "timedOut", timedOut ? Boolean.TRUE : null));
    Lines.emit(Lines.map("type", "event", "event", complete));
  }

  /** The operation itself, on its worker thread: connect (unless held), then the statement. */
  static void work(Attempt a, Connection reuse, Long id) {
    Connection conn = reuse;
    if (conn == null) {
      try {
        conn = DriverManager.getConnection(Config.url, Config.props);
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
        : "INSERT INTO " + Config.table + " (probe, id) VALUES (?, ?) RETURNING " + SERVER_SQL + " AS server";
    try (PreparedStatement statement = conn.prepareStatement(sql)) {
      if (id != null) {
        statement.setString(1, Config.name);
        statement.setLong(2, id);
      }
      String server;
      try (ResultSet rows = statement.executeQuery()) {
        server = rows.next() ? rows.getString("server") : null;
      }
      String warning = null;
      for (SQLWarning w = statement.getWarnings(); w != null; w = w.getNextWarning()) {
        String text = String.valueOf(w.getMessage());
        if (text.toLowerCase().contains("synchronous replication")) warning = "WARNING " + Lines.firstLine(text);
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
        a.error = warning == null ? null : Lines.shorten(warning);
        a.done = true;
        a.notifyAll();
      }
    } catch (Throwable e) {
      finish(a, id == null ? "fail" : writeOutcome(e), conn, e);
      return;
    }
    if (Config.connection.equals("fresh")) close(conn);
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
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : Lines.firstLine(e.getMessage());
        a.error = Lines.shorten((a.sqlstate == null ? "" : a.sqlstate + " ") + message);
        a.done = true;
        a.notifyAll();
      }
    }
    if (conn != null) abandon(conn);
  }

  /** Closes a connection on another thread: abort() closes its socket, so a hung driver cannot hold us. */
  static void abandon(Connection conn) {
    Agent.daemon("abandon", () -> {
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
}
