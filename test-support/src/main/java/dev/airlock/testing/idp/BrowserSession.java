package dev.airlock.testing.idp;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a browser does during an SSO login, over plain HTTP: keeps cookies (also {@code Secure} ones on
 * 127.0.0.1, as browsers do for loopback), follows the IdP's redirects, fills in its login form, and stops where
 * the IdP hands the user back to the application: a redirect to another host or port (OIDC), or an auto-posting
 * form (SAML HTTP-POST).
 */
public final class BrowserSession {

  private static final Pattern FORM = Pattern.compile("<form[^>]*\\baction=\"([^\"]*)\"[^>]*>(.*?)</form>",
      Pattern.DOTALL | Pattern.CASE_INSENSITIVE);
  private static final Pattern INPUT = Pattern.compile("<input[^>]*>", Pattern.CASE_INSENSITIVE);
  private static final Pattern ATTR = Pattern.compile("\\b(name|value|type)=\"([^\"]*)\"", Pattern.CASE_INSENSITIVE);
  private static final Pattern ERROR = Pattern.compile(
      "id=\"input-error[^\"]*\"[^>]*>\\s*([^<]+)<|class=\"[^\"]*(?:alert-error|kc-feedback-text)[^\"]*\"[^>]*>\\s*"
      + "([^<]+)<", Pattern.CASE_INSENSITIVE);

  private final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
      .connectTimeout(Duration.ofSeconds(5)).build();
  private final Map<String, String> cookies = new LinkedHashMap<>();

  /** Where the IdP handed the user back: a redirect URL, or a form to post (action and fields). */
  public record Handoff(URI redirect, URI formAction, Map<String, String> form) {}

  /** A page as the browser saw it. */
  public record Page(int status, URI uri, String body, String location) {}

  /**
   * Opens {@code start} (the application's login URL or the IdP's authorization URL), logs in as {@code user} on the
   * IdP's form at {@code idp}, and returns the handoff back to the application. A refused login (a wrong password)
   * throws with the IdP's message.
   */
  public Handoff login(URI start, URI idp, String user, String password) {
    Page page = followWithin(get(start), idp);
    if (page.location() != null) {
      return new Handoff(URI.create(page.location()), null, null); // already logged in (an IdP session)
    }
    Matcher form = FORM.matcher(page.body());
    if (!form.find()) {
      throw new IllegalStateException("no login form at " + page.uri() + " (HTTP " + page.status() + "):\n"
          + abbreviate(page.body()));
    }
    Map<String, String> fields = inputs(form.group(2));
    fields.put("username", user);
    fields.put("password", password);
    Page after = followWithin(post(page.uri().resolve(unescape(form.group(1))), fields), idp);
    if (after.location() != null) {
      return new Handoff(URI.create(after.location()), null, null);
    }
    Matcher post = FORM.matcher(after.body());
    if (post.find()) {
      Map<String, String> f = inputs(post.group(2));
      if (f.containsKey("SAMLResponse")) {
        return new Handoff(null, after.uri().resolve(unescape(post.group(1))), f);
      }
    }
    Matcher err = ERROR.matcher(after.body());
    throw new IllegalStateException("the IdP did not log " + user + " in" + (err.find() ? ": "
        + (err.group(1) != null ? err.group(1) : err.group(2)).strip() : "") + " (HTTP " + after.status() + " at "
        + after.uri() + ")");
  }

  /** Follows redirects while they stay on {@code idp}'s host and port; returns the last page, or the redirect out. */
  private Page followWithin(Page page, URI idp) {
    for (int hops = 0; page.location() != null && hops < 10; hops++) {
      URI next = page.uri().resolve(page.location());
      if (!sameOrigin(next, idp)) {
        return new Page(page.status(), page.uri(), page.body(), next.toString());
      }
      page = get(next);
    }
    return page;
  }

  private static boolean sameOrigin(URI a, URI b) {
    return a.getHost().equals(b.getHost()) && a.getPort() == b.getPort();
  }

  public Page get(URI uri) {
    return send(HttpRequest.newBuilder(uri).GET());
  }

  public Page post(URI uri, Map<String, String> form) {
    StringBuilder body = new StringBuilder();
    form.forEach((k, v) -> body.append(body.length() == 0 ? "" : "&").append(URLEncoder.encode(k,
        StandardCharsets.UTF_8)).append('=').append(URLEncoder.encode(v, StandardCharsets.UTF_8)));
    return send(HttpRequest.newBuilder(uri).header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString(body.toString())));
  }

  private Page send(HttpRequest.Builder b) {
    b.header("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"); // as browsers navigate
    if (!cookies.isEmpty()) {
      StringBuilder c = new StringBuilder();
      cookies.forEach((k, v) -> c.append(c.length() == 0 ? "" : "; ").append(k).append('=').append(v));
      b.header("Cookie", c.toString());
    }
    try {
      HttpResponse<String> r = http.send(b.timeout(Duration.ofSeconds(30)).build(),
          HttpResponse.BodyHandlers.ofString());
      for (String set : r.headers().allValues("set-cookie")) {
        String pair = set.split(";", 2)[0];
        int eq = pair.indexOf('=');
        if (eq > 0) {
          String name = pair.substring(0, eq).strip();
          String value = pair.substring(eq + 1).strip();
          boolean expired = set.toLowerCase(java.util.Locale.ROOT).contains("max-age=0");
          if (expired || value.isEmpty()) {
            cookies.remove(name);
          } else {
            cookies.put(name, value);
          }
        }
      }
      String location = r.statusCode() / 100 == 3 ? r.headers().firstValue("location").orElse(null) : null;
      return new Page(r.statusCode(), r.uri(), r.body(), location);
    } catch (IOException e) {
      throw new IllegalStateException("request failed: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static Map<String, String> inputs(String form) {
    Map<String, String> out = new LinkedHashMap<>();
    Matcher m = INPUT.matcher(form);
    while (m.find()) {
      String name = null;
      String value = "";
      Matcher a = ATTR.matcher(m.group());
      while (a.find()) {
        switch (a.group(1).toLowerCase(java.util.Locale.ROOT)) {
          case "name" -> name = unescape(a.group(2));
          case "value" -> value = unescape(a.group(2));
          default -> { }
        }
      }
      if (name != null && !List.of("login").contains(name)) {
        out.put(name, value);
      }
    }
    return out;
  }

  static String unescape(String html) {
    return html.replace("&amp;", "&").replace("&quot;", "\"").replace("&#x3d;", "=").replace("&#61;", "=")
        .replace("&lt;", "<").replace("&gt;", ">").replace("&#39;", "'").replace("&#x2b;", "+")
        .replace("&#x2f;", "/");
  }

  private static String abbreviate(String s) {
    return s.length() > 2000 ? s.substring(0, 2000) + "…" : s;
  }
}
