/*
 * What the agent writes: the probe runner's line protocol on stdout (docs/drivers.md), one JSON object a line, tagged and
 * numbered, flushed at once; and its times, ms since the agent's t = 0 on the monotonic clock (Agent.T0).
 */
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

final class Lines {
  private Lines() {}

  static final OutputStream OUT = new FileOutputStream(FileDescriptor.out);
  static long seq = 0;
  static boolean exiting = false;

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
    return ms(System.nanoTime() - Agent.T0);
  }

  static Json.Raw ms(long ns) {
    long us = Math.round(ns / 1000.0);
    return new Json.Raw((us < 0 ? "-" : "") + Math.abs(us) / 1000 + "." + String.format("%03d", Math.abs(us) % 1000));
  }

  /** Short, one line, never the password. */
  static String shorten(String text) {
    String password = Config.password;
    if (password != null && !password.isEmpty()) text = text.replace(password, "********");
    return text.length() > 200 ? text.substring(0, 197) + "..." : text;
  }

  static String firstLine(String text) {
    int end = text.indexOf('\n');
    return (end < 0 ? text : text.substring(0, end)).trim();
  }

  /** An ordered JSON object of key/value pairs; a null value leaves its key out. */
  static Map<String, Object> map(Object... pairs) {
    Map<String, Object> map = new LinkedHashMap<>();
    for (int i = 0; i < pairs.length; i += 2) if (pairs[i + 1] != null) map.put((String) pairs[i], pairs[i + 1]);
    return map;
  }
}
