package dev.airlock.sso;

import java.util.regex.Pattern;

/**
 * Where to send the browser after a login: only a path on airlock itself. A {@code return_to} that names another
 * site — absolute URLs, scheme-relative {@code //evil}, backslash tricks ({@code /\evil}), encoded or control
 * characters that browsers fold into those — falls back to the default, so a login link cannot become an open
 * redirect that hands the user's fresh session to someone else's page.
 */
public final class SafeRedirect {

  private static final Pattern SAFE = Pattern.compile("/[A-Za-z0-9._~!$&'()*+,;=:@/%-]*(\\?[A-Za-z0-9._~!$&'()*+,;=:@/?%-]*)?");

  private SafeRedirect() {}

  /** {@code requested} when it is a plain path on this site, else {@code fallback}. */
  public static String target(String requested, String fallback) {
    if (requested == null || requested.isEmpty() || requested.length() > 2048) {
      return fallback;
    }
    if (!SAFE.matcher(requested).matches()) {
      return fallback; // a scheme, a fragment, spaces, control characters, backslashes
    }
    String lower = requested.toLowerCase(java.util.Locale.ROOT);
    if (requested.startsWith("//") || lower.startsWith("/%2f") || lower.startsWith("/%5c") || lower.contains("%00")
        || lower.contains("%0d") || lower.contains("%0a") || lower.contains("%09")) {
      return fallback; // scheme-relative, or encoded forms some servers and browsers decode before use
    }
    return requested;
  }
}
