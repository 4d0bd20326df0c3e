package dev.airlock.installer.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.sso.FormData;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;

/**
 * The server's HTTP layer: routes by method and path pattern, JSON in and out, security headers on every answer,
 * request bodies bounded, and errors as {@code {"error", "fix", "check"}} with the status their kind means. Built on
 * the JDK's HTTP server (ADR 14): no port is opened by any other airlock command.
 */
final class Web implements AutoCloseable {

  static final ObjectMapper JSON = new ObjectMapper().findAndRegisterModules()
      .configure(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS, false)
      .setSerializationInclusion(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL);
  static final int MAX_BODY = 2 << 20;
  /** An error's attribute: the seconds a refused client should wait (a 429's Retry-After; default 60). */
  static final String RETRY_AFTER = "retry-after";

  /** One request, read. */
  static final class Request {
    final HttpExchange exchange;
    final Map<String, String> query;
    final List<String> params;
    private byte[] body;

    Request(HttpExchange exchange, List<String> params) {
      this.exchange = exchange;
      this.query = FormData.parse(exchange.getRequestURI().getRawQuery());
      this.params = params;
    }

    String param(int i) {
      return params.get(i);
    }

    String header(String name) {
      return exchange.getRequestHeaders().getFirst(name);
    }

    /** The client's address (the peer; a proxy's X-Forwarded-For is not trusted). */
    String remote() {
      return exchange.getRemoteAddress().getAddress().getHostAddress();
    }

    byte[] body() throws IOException {
      if (body == null) {
        try (InputStream in = exchange.getRequestBody()) {
          body = in.readNBytes(MAX_BODY + 1);
        }
        if (body.length > MAX_BODY) {
          throw new AirlockException(Kind.BAD_INPUT, "the request body is larger than 2 MiB", null);
        }
      }
      return body;
    }

    /** The form's fields: URL-encoded, or the text fields of a multipart form. */
    Map<String, String> form() throws IOException {
      if (multipartBoundary() != null) {
        Map<String, String> fields = new java.util.LinkedHashMap<>();
        parts().forEach((k, v) -> {
          if (v.filename() == null) {
            fields.put(k, new String(v.bytes(), StandardCharsets.UTF_8));
          }
        });
        return fields;
      }
      return FormData.parse(new String(body(), StandardCharsets.UTF_8));
    }

    private String multipartBoundary() {
      String type = header("Content-Type");
      if (type == null || !type.toLowerCase(java.util.Locale.ROOT).startsWith("multipart/form-data")) {
        return null;
      }
      Matcher m = Pattern.compile("boundary=\"?([^\";]+)\"?").matcher(type);
      return m.find() ? m.group(1) : null;
    }

    /** The parts of a {@code multipart/form-data} body (at most 2 MiB in all), by field name. */
    Map<String, Part> parts() throws IOException {
      String boundary = multipartBoundary();
      if (boundary == null) {
        throw new AirlockException(Kind.BAD_INPUT, "this form must be sent as multipart/form-data", null);
      }
      return Multipart.parse(body(), boundary);
    }

    JsonNode json() throws IOException {
      byte[] b = body();
      if (b.length == 0) {
        return JSON.createObjectNode();
      }
      try {
        return JSON.readTree(b);
      } catch (IOException e) {
        throw new AirlockException(Kind.BAD_INPUT, "the request body is not JSON", null, e);
      }
    }

    /** The bearer credential of {@code Authorization}, or null. */
    String bearer() {
      String a = header("Authorization");
      return a != null && a.regionMatches(true, 0, "Bearer ", 0, 7) ? a.substring(7).strip() : null;
    }
  }

  /** One field of a multipart form: a file's name (null for a text field) and its bytes. */
  record Part(String filename, byte[] bytes) {}

  /** Writes a streamed answer (server-sent events) until it is done or the client goes away. */
  interface Streamer {
    void write(java.io.OutputStream out) throws IOException;
  }

  /** What a handler answers; {@code stream}, when set, writes the body instead of {@code body}. */
  record Response(int status, String contentType, byte[] body, Map<String, String> headers, Streamer stream) {
    Response(int status, String contentType, byte[] body, Map<String, String> headers) {
      this(status, contentType, body, headers, null);
    }

    static Response stream(String contentType, Streamer s) {
      return new Response(200, contentType, new byte[0], Map.of(), s);
    }
    static Response json(int status, Object value) {
      try {
        return new Response(status, "application/json", JSON.writeValueAsBytes(value), Map.of());
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }

    static Response json(Object value) {
      return json(200, value);
    }

    static Response html(int status, String title, String text) {
      String page = "<!doctype html><html><head><meta charset=utf-8><title>" + escape(title) + "</title>"
          + "<style>body{font-family:sans-serif;margin:3em;max-width:42em}</style></head><body><h1>" + escape(title)
          + "</h1><p>" + escape(text).replace("\n", "<br>") + "</p></body></html>";
      return new Response(status, "text/html; charset=utf-8", page.getBytes(StandardCharsets.UTF_8), Map.of());
    }

    /** A page with one text field posted to {@code action} (no script; the answer is a redirect or an error). */
    static Response form(String title, String text, String action, String field, String example) {
      String page = "<!doctype html><html><head><meta charset=utf-8><title>" + escape(title) + "</title>"
          + "<style>body{font-family:sans-serif;margin:3em;max-width:42em}input{font-size:1.4em}</style></head>"
          + "<body><h1>" + escape(title) + "</h1><p>" + escape(text) + "</p><form method=post action=\""
          + escape(action) + "\"><input name=\"" + escape(field) + "\" placeholder=\"" + escape(example)
          + "\" autocomplete=off autofocus required> <button type=submit>Continue</button></form></body></html>";
      return new Response(200, "text/html; charset=utf-8", page.getBytes(StandardCharsets.UTF_8), Map.of());
    }

    static Response redirect(String location) {
      return new Response(302, null, new byte[0], Map.of("Location", location));
    }

    static Response noContent() {
      return new Response(204, null, new byte[0], Map.of());
    }
  }

  interface Handler {
    Response handle(Request r) throws Exception;
  }

  private record Route(String method, Pattern path, Handler handler) {}

  private final HttpServer server;
  private final ExecutorService pool;
  private final List<Route> routes = new ArrayList<>();
  private final ErrorListener errors;

  /** Told of every refused request (the server audits and rate-limits from it). */
  interface ErrorListener {
    void refused(Request r, AirlockException e);
  }

  static {
    // The JDK server writes headers and body separately; without TCP_NODELAY, Nagle's algorithm and the client's
    // delayed ACK hold the body back ~40 ms. Read once, when the JDK's server classes load, so set it before them.
    if (System.getProperty("sun.net.httpserver.nodelay") == null) {
      System.setProperty("sun.net.httpserver.nodelay", "true");
    }
  }

  Web(InetSocketAddress address, SSLContext tls, ErrorListener errors) throws IOException {
    if (tls != null) {
      HttpsServer s = HttpsServer.create(address, 128);
      // A plain-HTTP request on this port gets a 400 saying so, not a closed connection.
      s.setHttpsConfigurator(new HttpsConfigurator(TlsPort.answeringPlainHttp(tls, "this airlock server speaks "
          + "HTTPS on this port: use https://, not http://\n")));
      server = s;
    } else {
      server = HttpServer.create(address, 128);
    }
    this.errors = errors;
    pool = Executors.newFixedThreadPool(64, r -> {
      Thread t = new Thread(r, "airlock-server");
      t.setDaemon(true);
      return t;
    });
    server.setExecutor(pool);
    server.createContext("/", this::dispatch);
  }

  int port() {
    return server.getAddress().getPort();
  }

  /** Routes {@code method} on paths matching {@code pattern} (groups become {@link Request#param}). */
  Web on(String method, String pattern, Handler h) {
    routes.add(new Route(method, Pattern.compile(pattern), h));
    return this;
  }

  void start() {
    server.start();
  }

  private void dispatch(HttpExchange x) {
    Response resp;
    Request req = null;
    try {
      String path = x.getRequestURI().getPath();
      Route found = null;
      boolean pathKnown = false;
      List<String> params = new ArrayList<>();
      for (Route r : routes) {
        Matcher m = r.path().matcher(path);
        if (m.matches()) {
          pathKnown = true;
          if (r.method().equals(x.getRequestMethod())) {
            found = r;
            for (int i = 1; i <= m.groupCount(); i++) {
              params.add(m.group(i));
            }
            break;
          }
        }
      }
      req = new Request(x, params);
      if (found == null) {
        resp = pathKnown ? Response.json(405, Map.of("error", "method " + x.getRequestMethod() + " not allowed"))
            : Response.json(404, Map.of("error", "not found: " + path));
      } else {
        resp = found.handler().handle(req);
      }
    } catch (AirlockException e) {
      if (errors != null && req != null) {
        errors.refused(req, e);
      }
      resp = error(e);
      if (browser(x)) {
        // A browser (an IdP's redirect back, the device page, the console): the refusal as a page a person reads.
        int status = resp.status();
        resp = Response.html(status, status == 429 ? "Too many attempts" : status == 403 || status == 401
            || status == 404 ? "Refused" : "Something went wrong", e.getMessage() + e.fix().map(f
            -> "\n\nWhat to do: " + f).orElse(""));
      }
      if (resp.status() == 429) {
        Map<String, String> headers = new java.util.HashMap<>(resp.headers());
        headers.put("Retry-After", e.get(RETRY_AFTER).orElse("60"));
        resp = new Response(resp.status(), resp.contentType(), resp.body(), headers);
      }
    } catch (Exception e) {
      resp = Response.json(500, Map.of("error", "internal error: " + e.getClass().getSimpleName(),
          "fix", "see the server's log"));
      System.err.println("airlock server: " + x.getRequestMethod() + " " + x.getRequestURI().getPath() + ": " + e
          + (e.getCause() == null ? "" : " (" + e.getCause() + ")"));
    }
    send(x, resp);
  }

  /**
   * Whether a person's browser asked: it says it takes HTML, or it asked for a page only browsers visit (the console,
   * the device page, a login's start, the IdP's answer), whatever its Accept header says. The API, and the console's
   * own scripts (which send the form token as a header and read JSON), get JSON.
   */
  static boolean browser(HttpExchange x) {
    String accept = x.getRequestHeaders().getFirst("Accept");
    if (accept != null && accept.contains("text/html")) {
      return true;
    }
    if (x.getRequestHeaders().containsKey(ConsolePages.CSRF_HEADER)) {
      return false;
    }
    String path = x.getRequestURI().getPath();
    return path.startsWith("/console") && !path.startsWith("/console/static/") || path.equals("/device")
        || path.startsWith("/login/") || path.startsWith("/sso/") && !path.endsWith("/metadata");
  }

  static Response error(AirlockException e) {
    int status = e.get("status").map(Integer::parseInt).orElseGet(() -> switch (e.kind()) {
      case BAD_INPUT -> 400;
      case DENIED, LICENSE -> 403;
      case REMOTE -> 502;
      default -> 500;
    });
    Map<String, Object> body = new java.util.LinkedHashMap<>();
    body.put("error", e.getMessage());
    e.fix().ifPresent(f -> body.put("fix", f));
    e.get(AirlockException.CHECK).ifPresent(c -> body.put("check", c));
    e.get("offset").ifPresent(o -> body.put("offset", Long.parseLong(o)));
    return Response.json(status, body);
  }

  private static void send(HttpExchange x, Response r) {
    try {
      // A refusal sent while the client still uploads (a bundle chunk at the wrong offset) would be lost to a reset
      // connection if the body were left unread: read what is left of it (bounded) first.
      try (InputStream rest = x.getRequestBody()) {
        byte[] sink = new byte[1 << 16];
        long left = 64L << 20;
        int n;
        while (left > 0 && (n = rest.read(sink, 0, (int) Math.min(sink.length, left))) > 0) {
          left -= n;
        }
      } catch (IOException e) {
        // the client went away; the answer below fails quietly too
      }
      var h = x.getResponseHeaders();
      h.set("Cache-Control", "no-store");
      h.set("X-Content-Type-Options", "nosniff");
      h.set("X-Frame-Options", "DENY");
      h.set("Referrer-Policy", "no-referrer");
      h.set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self' https: http:");
      if (r.contentType() != null) {
        h.set("Content-Type", r.contentType());
      }
      r.headers().forEach((k, v) -> {
        if (k.equals("Set-Cookie")) {
          for (String c : v.split("\n")) {
            h.add(k, c);
          }
        } else {
          h.set(k, v);
        }
      });
      if (r.stream() != null) {
        x.sendResponseHeaders(r.status(), 0);
        try (var out = x.getResponseBody()) {
          r.stream().write(out);
        } catch (RuntimeException e) {
          // the status is sent: end the stream, and say why in the log
          System.err.println("airlock server: " + x.getRequestURI().getPath() + ": stream ended: " + e);
        }
        return;
      }
      x.sendResponseHeaders(r.status(), r.body().length == 0 ? -1 : r.body().length);
      if (r.body().length > 0) {
        x.getResponseBody().write(r.body());
      }
    } catch (IOException e) {
      // the client went away
    } finally {
      x.close();
    }
  }

  static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }

  @Override
  public void close() {
    server.stop(0);
    pool.shutdownNow();
  }
}
