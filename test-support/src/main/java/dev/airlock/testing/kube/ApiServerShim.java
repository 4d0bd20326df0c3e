package dev.airlock.testing.kube;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.mockwebserver.dsl.HttpMethod;
import io.fabric8.mockwebserver.http.Buffer;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.Headers;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The API-server behaviours Helm (helm-java 0.0.21, client-go) needs and the fabric8 mock server (CRUD mode) lacks,
 * answered in front of the mock's own dispatcher. Each is one thing a real kube-apiserver does:
 * <ol>
 *   <li>{@code /version} and the discovery documents ({@link Discovery});</li>
 *   <li>{@code Content-Type: application/json} on every answer (client-go asks for protobuf first);</li>
 *   <li>protobuf-encoded Secrets (Helm's release records) decoded to JSON before the store sees them;</li>
 *   <li>lists named {@code <Kind>List}, not {@code List} (typed clients decode nothing otherwise);</li>
 *   <li>strategic-merge and JSON-merge patches applied as the API server applies them ({@link StrategicMerge});</li>
 *   <li>{@code 409} on create says reason {@code AlreadyExists};</li>
 *   <li>SelfSubjectAccessReviews answered: allowed unless the test denied that verb on that resource.</li>
 * </ol>
 * Pinned to helm-java 0.0.21 and fabric8 7.5.2; see {@code ../shared/notes/helm-and-the-mock-server.md}. Only a real
 * API server is the truth: every scenario also runs against one ({@code AIRLOCK_E2E_KUBECONFIG}).
 */
final class ApiServerShim extends Dispatcher {

  private static final String JSON_TYPE = "application/json";

  private final KubernetesCrudDispatcher crud;
  private final ObjectMapper json = new ObjectMapper();
  private final Discovery discovery = new Discovery(json);
  private final Set<String> denied = ConcurrentHashMap.newKeySet();
  private volatile String gitVersion = "v1.31.4";

  ApiServerShim(KubernetesCrudDispatcher crud) {
    this.crud = crud;
  }

  void kubernetesVersion(String version) {
    this.gitVersion = version;
  }

  void deny(String verb, String resource) {
    denied.add(verb + " " + resource);
  }

  @Override
  public MockResponse dispatch(RecordedRequest request) {
    try {
      return fix(request, answer(request));
    } catch (Exception e) {
      return status(500, "InternalError", "test API server: " + e);
    }
  }

  private MockResponse answer(RecordedRequest request) throws Exception {
    String full = request.getPath();
    String path = full.contains("?") ? full.substring(0, full.indexOf('?')) : full;
    HttpMethod method = request.method();
    if (method == HttpMethod.GET) {
      if (path.equals("/version")) {
        String[] v = gitVersion.substring(1).split("\\.");
        return ok(json.createObjectNode().put("major", v[0]).put("minor", v[1]).put("gitVersion", gitVersion)
            .put("platform", "linux/amd64").toString());
      }
      if (path.equals("/openapi/v2")) {
        // An empty OpenAPI v2 document (protobuf, which is what clients ask for): no schemas, so client-side
        // validation accepts every object as it does types without a schema; the store is the judge.
        return new MockResponse().setResponseCode(200)
            .setHeader("Content-Type", "application/com.github.proto-openapi.spec.v2.v1.0+protobuf")
            .setBody(new byte[0]);
      }
      if (path.startsWith("/openapi/")) {
        return status(404, "NotFound", "this test API server publishes OpenAPI v2 only");
      }
      Optional<String> doc = discovery.document(path);
      if (doc.isPresent()) {
        return ok(doc.get());
      }
    }
    if (method == HttpMethod.POST && path.endsWith("/selfsubjectaccessreviews")) {
      ObjectNode review = (ObjectNode) json.readTree(request.getUtf8Body());
      JsonNode attrs = review.path("spec").path("resourceAttributes");
      boolean allowed = !denied.contains(attrs.path("verb").asText() + " " + attrs.path("resource").asText());
      ObjectNode status = review.putObject("status").put("allowed", allowed);
      if (!allowed) {
        status.put("reason", "denied by the test");
      }
      return ok(review.toString()).setResponseCode(201);
    }
    byte[] body = request.getBody() == null ? new byte[0] : request.getBody().getBytes();
    if ((method == HttpMethod.POST || method == HttpMethod.PUT) && ProtobufSecrets.isProtobuf(body)) {
      return crud.dispatch(withBody(request, method, ProtobufSecrets.toJson(body, json).toString()));
    }
    if (method == HttpMethod.PATCH) {
      String type = String.valueOf(request.getHeader("Content-Type"));
      boolean strategic = type.startsWith("application/strategic-merge-patch");
      if (strategic || type.startsWith("application/merge-patch")) {
        MockResponse current = crud.handleGet(path);
        if (current.code() != 200) {
          return current;
        }
        ObjectNode object = (ObjectNode) json.readTree(current.getBody().readUtf8());
        StrategicMerge.apply(object, (ObjectNode) json.readTree(body), strategic);
        return crud.dispatch(withBody(request, HttpMethod.PUT, object.toString()));
      }
    }
    return crud.dispatch(request);
  }

  private MockResponse fix(RecordedRequest request, MockResponse response) throws Exception {
    if (response.getWebSocketListener() != null) {
      return response;
    }
    if (response.header("Content-Type") == null) {
      response.setHeader("Content-Type", JSON_TYPE);
    }
    Buffer body = response.getBody();
    if (body == null || body.size() == 0 || body.getBytes()[0] != '{') {
      return response;
    }
    JsonNode node = json.readTree(body.getBytes());
    if (node instanceof ObjectNode object) {
      String path = request.getPath().split("\\?")[0];
      if ("List".equals(object.path("kind").asText())) {
        Discovery.resourceOf(path).ifPresent(r -> object.put("kind", r.kind() + "List")
            .put("apiVersion", r.groupVersion()));
        return response.setBody(object.toString());
      }
      if (response.code() == 409 && request.method() == HttpMethod.POST) {
        object.put("reason", "AlreadyExists");
        return response.setBody(object.toString());
      }
    }
    return response;
  }

  private static RecordedRequest withBody(RecordedRequest request, HttpMethod method, String body) {
    Headers headers = request.getHeaders().newBuilder().set("Content-Type", JSON_TYPE).build();
    return new RecordedRequest(request.getHttpVersion(), method, request.getPath(), headers,
        new Buffer(body.getBytes(StandardCharsets.UTF_8)));
  }

  private static MockResponse ok(String body) {
    return new MockResponse().setResponseCode(200).setHeader("Content-Type", JSON_TYPE).setBody(body);
  }

  private MockResponse status(int code, String reason, String message) {
    return new MockResponse().setResponseCode(code).setHeader("Content-Type", JSON_TYPE).setBody(
        json.createObjectNode().put("kind", "Status").put("apiVersion", "v1").put("status", "Failure")
            .put("reason", reason).put("message", message).put("code", code).toString());
  }
}
