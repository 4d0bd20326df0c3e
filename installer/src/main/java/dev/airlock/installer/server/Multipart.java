package dev.airlock.installer.server;

import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A {@code multipart/form-data} body (RFC 7578) split into its fields. Only for the console's small forms (a license,
 * a YAML file); bundles are uploaded in raw chunks, never through this.
 */
final class Multipart {

  private static final Pattern NAME = Pattern.compile("(?i)[; ]name=\"([^\"]*)\"");
  private static final Pattern FILENAME = Pattern.compile("(?i)filename=\"([^\"]*)\"");

  private Multipart() {}

  static Map<String, Web.Part> parse(byte[] body, String boundary) {
    byte[] delimiter = ("--" + boundary).getBytes(StandardCharsets.US_ASCII);
    Map<String, Web.Part> parts = new LinkedHashMap<>();
    int at = indexOf(body, delimiter, 0);
    if (at < 0) {
      throw malformed("no part starts with the boundary");
    }
    while (true) {
      int start = at + delimiter.length;
      if (start + 1 < body.length && body[start] == '-' && body[start + 1] == '-') {
        return parts; // the closing delimiter
      }
      start = skipLine(body, start);
      int headersEnd = indexOf(body, "\r\n\r\n".getBytes(StandardCharsets.US_ASCII), start);
      if (headersEnd < 0) {
        throw malformed("a part has no blank line after its headers");
      }
      String headers = new String(body, start, headersEnd - start, StandardCharsets.UTF_8);
      int next = indexOf(body, ("\r\n--" + boundary).getBytes(StandardCharsets.US_ASCII), headersEnd + 4);
      if (next < 0) {
        throw malformed("the body ends inside a part");
      }
      byte[] content = java.util.Arrays.copyOfRange(body, headersEnd + 4, next);
      Matcher name = NAME.matcher(headers);
      if (name.find()) {
        Matcher file = FILENAME.matcher(headers);
        parts.put(name.group(1), new Web.Part(file.find() ? file.group(1) : null, content));
      }
      at = next + 2;
    }
  }

  private static int skipLine(byte[] b, int from) {
    int i = from;
    while (i < b.length && b[i] != '\n') {
      i++;
    }
    return i + 1;
  }

  private static int indexOf(byte[] hay, byte[] needle, int from) {
    outer:
    for (int i = Math.max(0, from); i <= hay.length - needle.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  private static AirlockException malformed(String why) {
    return new AirlockException(Kind.BAD_INPUT, "the form is not valid multipart/form-data: " + why,
        "send it from the console's page");
  }
}
