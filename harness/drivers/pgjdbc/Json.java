/*
 * The pgjdbc agent's JSON (Java 17 has none, and the agent depends on nothing but pgjdbc): a reader for the
 * config and the control lines, and a writer for the protocol's lines, ASCII only.
 */
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A small JSON reader (objects, arrays, strings, numbers as Double, true, false, null) and writer. */
final class Json {
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
