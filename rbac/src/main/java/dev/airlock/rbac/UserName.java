package dev.airlock.rbac;

import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The form of a username that goes into Kubernetes names and {@code {{user}}} templates: a DNS label of at most
 * {@value #MAX} characters. A name that already is one is kept; any other (upper case, dots, {@code @}, {@code /},
 * {@code ..}, {@code *}, spaces, over-long) is folded to lower-case letters, digits and dashes and given a suffix
 * of its SHA-256, so two different names never meet in one namespace and no name can reach outside its template:
 * the result never holds {@code *}, {@code ?}, {@code /} or {@code .}.
 */
public final class UserName {

  public static final int MAX = 40;
  private static final Pattern LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");

  private UserName() {}

  public static String of(String username) {
    if (username == null || username.isBlank()) {
      throw new AirlockException(Kind.BAD_INPUT, "an empty username cannot be mapped to Kubernetes names",
          "check the connector's usernameClaim or usernameAttribute (docs/sso.md)");
    }
    if (username.length() <= MAX && LABEL.matcher(username).matches()) {
      return username;
    }
    String folded = username.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("^-+|-+$", "");
    if (folded.length() > MAX - 7) {
      folded = folded.substring(0, MAX - 7).replaceAll("-+$", "");
    }
    return (folded.isEmpty() ? "u" : folded) + "-" + hash(username);
  }

  private static String hash(String s) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d).substring(0, 6);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
