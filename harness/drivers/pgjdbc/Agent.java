/*
 * pgdrill's pgjdbc driver agent: runs one probe (select1 or writes) through pgjdbc's own connection logic and defaults, and
 * reports every operation as History events on stdout, in the in-cluster probe runner's line protocol (docs/drivers.md has
 * the contract). Java 17, no dependency but the pinned pgjdbc jar. This file is the process: start-up, hello, the control
 * lines on stdin and the loop; Config.java reads the config, Operation.java runs one operation, Lines.java writes the
 * protocol's lines, Json.java is the small JSON reader and writer.
 */
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import org.postgresql.util.DriverInfo;

public final class Agent {
  private Agent() {}

  /** The agent's t = 0 on the monotonic clock: when the JVM loaded this class, before anything else. */
  static final long T0 = System.nanoTime();

  // The loop's state: `stop` ends it after the operation in flight.
  static final Object LOOP = new Object();
  static boolean stop = false, ran = false;

  public static void main(String[] args) throws Exception {
    String problem = null;
    try {
      Config.configure(System.getenv("PGDRILL_AGENT_CONFIG"));
    } catch (RuntimeException e) {
      problem = e.getMessage();
    }
    warmUp();
    long ns = System.nanoTime() - T0;
    Lines.emit(Lines.map("type", "hello", "t", Lines.ms(ns),
        "wallClock", Instant.now().minusNanos(ns).truncatedTo(ChronoUnit.MILLIS).toString(), "monotonicNs", String.valueOf(T0),
        "version", "pgjdbc " + DriverInfo.DRIVER_VERSION, "probes", List.of(Config.name), "controlPort", 0,
        "runtime", Lines.map("node", "java " + System.getProperty("java.version"), "uid", uid()),
        "connectDeadlineMs", Config.connectDeadlineMs > 0 ? Config.connectDeadlineMs : null));
    if (problem == null) problem = Config.refusedSetting();
    if (problem != null) {
      Lines.error(problem);
      Lines.exit(2, "its configuration was refused");
    }
    long lifetimeMs = Config.lifetimeMs;
    daemon("lifetime", () -> {
      sleepNs(lifetimeMs * 1_000_000L);
      Lines.exit(0, "its lifetime of " + lifetimeMs + " ms is over");
    });
    BufferedReader stdin = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String line; (line = stdin.readLine()) != null; ) command(line);
    Lines.exit(0, "stdin closed");
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
        long durationMs = Config.num(command, "durationMs");
        if (durationMs <= 0) throw new IllegalArgumentException("durationMs must be a positive number of ms");
        synchronized (LOOP) {
          if (ran) throw new IllegalArgumentException("already ran: an agent runs its probe once");
          ran = true;
        }
        daemon("loop", () -> {
          loop(durationMs);
          Lines.exit(0, "probes done");
        });
      } else throw new IllegalArgumentException("unknown command " + Json.write(what) + ": run or stop");
    } catch (RuntimeException e) {
      Lines.error("control line refused: " + e.getMessage());
    }
  }

  /** The operations, one at a time every everyMs; one that overruns delays the next (no catch-up burst). */
  static void loop(long durationMs) {
    Lines.state("running", null);
    long everyMs = Config.everyMs;
    long start = System.nanoTime(), until = start + durationMs * 1_000_000L, next = start;
    long maxOps = (durationMs + everyMs - 1) / everyMs + 1;
    for (long op = 0; op < maxOps && next < until; op++) {
      synchronized (LOOP) {
        for (long wait; !stop && (wait = next - System.nanoTime()) > 0; ) waitNs(LOOP, wait);
        if (stop) break;
      }
      Operation.run(op);
      next += everyMs * 1_000_000L;
      next = Math.max(next, System.nanoTime());
    }
    if (Operation.held != null) Operation.abandon(Operation.held);
    Lines.state("probes-done", null);
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
}
