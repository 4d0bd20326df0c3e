package dev.airlock.installer.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.sso.oidc.Tls;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;

/** The CLI's side of the server's API: JSON over HTTP(S), the session as a bearer credential. */
final class ServerClient {

  private final URI server;
  private final HttpClient http;

  /** @param ca a PEM CA for a server whose certificate a company CA (or the server itself) signed, or null */
  ServerClient(URI server, Path ca) {
    if (server == null || server.getScheme() == null || server.getHost() == null) {
      throw new AirlockException(Kind.BAD_INPUT, "--server '" + server + "' is not a URL",
          "e.g. --server https://airlock.corp.example");
    }
    this.server = URI.create(server.toString().replaceAll("/+$", ""));
    HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10))
        .followRedirects(HttpClient.Redirect.NEVER);
    if (ca != null) {
      b.sslContext(Tls.context(ca));
    }
    this.http = b.build();
  }

  URI server() {
    return server;
  }

  /** An answer: status and JSON body. */
  record Answer(int status, JsonNode body) {}

  Answer send(String method, String path, String bearer, Object body) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server + path)).timeout(Duration.ofSeconds(60))
        .header("Accept", "application/json");
    if (bearer != null) {
      b.header("Authorization", "Bearer " + bearer);
    }
    try {
      if (body != null) {
        b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofByteArray(
            Web.JSON.writeValueAsBytes(body)));
      } else {
        b.method(method, HttpRequest.BodyPublishers.noBody());
      }
      HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
      JsonNode json = r.body().length == 0 ? Web.JSON.createObjectNode() : parse(r.body(), path);
      return new Answer(r.statusCode(), json);
    } catch (ConnectException e) {
      throw new AirlockException(Kind.REMOTE, "cannot reach the airlock server at " + server, "check --server and "
          + "that the server runs (airlock server, or the platform's airlock component)", e);
    } catch (IOException e) {
      throw new AirlockException(Kind.REMOTE, "the airlock server at " + server + " did not answer: "
          + e.getMessage(), "check --server" + (server.getScheme().equals("https") ? " and --ca" : ""), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AirlockException(Kind.CANCELLED, "interrupted", null, e);
    }
  }

  private JsonNode parse(byte[] body, String path) {
    try {
      return Web.JSON.readTree(body);
    } catch (IOException e) {
      throw new AirlockException(Kind.REMOTE, server + path + " did not answer JSON: is --server an airlock "
          + "server?", "check --server", e);
    }
  }

  /** Fails with the server's own message unless the status is one of {@code ok}. */
  static JsonNode expect(Answer a, int... ok) {
    for (int s : ok) {
      if (a.status() == s) {
        return a.body();
      }
    }
    String error = a.body().path("error").asText("HTTP " + a.status());
    String fix = a.body().path("fix").asText(null);
    Kind kind = a.status() == 401 || a.status() == 403 || a.status() == 429 ? Kind.DENIED
        : a.status() >= 500 ? Kind.REMOTE : Kind.BAD_INPUT;
    AirlockException e = new AirlockException(kind, "the airlock server refused: " + error, fix);
    if (a.body().hasNonNull("check")) {
      e = e.with(AirlockException.CHECK, a.body().path("check").asText());
    }
    return throwIt(e);
  }

  private static JsonNode throwIt(AirlockException e) {
    throw e;
  }
}
