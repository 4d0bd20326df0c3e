package dev.airlock.kubetoken;

/**
 * The one thing kube-token reads from JSON: a string field by name ({@code expirationTimestamp}, {@code error},
 * {@code fix}), wherever it stands. A JSON library would cost more to load than the whole cached path.
 */
final class Json {

  private Json() {}

  /** The string value of the first field named {@code key}, unescaped; null when there is none. */
  static String string(String json, String key) {
    String quoted = "\"" + key + "\"";
    int from = 0;
    while (true) {
      int at = json.indexOf(quoted, from);
      if (at < 0) {
        return null;
      }
      int i = skipSpace(json, at + quoted.length());
      if (i < json.length() && json.charAt(i) == ':') {
        i = skipSpace(json, i + 1);
        if (i < json.length() && json.charAt(i) == '"') {
          return unescape(json, i + 1);
        }
        return null;
      }
      from = at + 1;
    }
  }

  private static int skipSpace(String s, int i) {
    while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
      i++;
    }
    return i;
  }

  private static String unescape(String s, int i) {
    StringBuilder b = new StringBuilder();
    while (i < s.length()) {
      char c = s.charAt(i++);
      if (c == '"') {
        return b.toString();
      }
      if (c != '\\') {
        b.append(c);
        continue;
      }
      if (i >= s.length()) {
        return null;
      }
      char e = s.charAt(i++);
      switch (e) {
        case 'n' -> b.append('\n');
        case 't' -> b.append('\t');
        case 'r' -> b.append('\r');
        case 'b' -> b.append('\b');
        case 'f' -> b.append('\f');
        case 'u' -> {
          if (i + 4 > s.length()) {
            return null;
          }
          try {
            b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
          } catch (NumberFormatException x) {
            return null;
          }
          i += 4;
        }
        default -> b.append(e);
      }
    }
    return null;
  }
}
