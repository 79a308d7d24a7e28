/*
 * The agent's probe and target, read from PGDRILL_AGENT_CONFIG (docs/drivers.md has its shape) and mapped onto a pgjdbc URL
 * and connection properties as the contract says; the settings pgjdbc would silently ignore are refused here, by name.
 */
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.postgresql.PGProperty;
import org.postgresql.util.DriverInfo;

final class Config {
  private Config() {}

  /** From PGPASSWORD, never from the config: it goes into the properties and is masked in every line (Lines.shorten). */
  static String password = System.getenv("PGPASSWORD");

  static String name = "?", type, connection, table, url;
  static long everyMs, timeoutMs, connectTimeoutMs, connectDeadlineMs, lifetimeMs;
  static final Properties props = new Properties();
  static final List<String> settingsGiven = new ArrayList<>();

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
      return otherwise; // refused by the settings check
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
}
