package dev.airlock.installer.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.kube.AuditLog;
import dev.airlock.sso.SsoConfig;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The console's SSO page: the connectors listed, added, edited and removed (each change checked as {@code sso.yaml}
 * is, and the IdP reached, before it is stored); a "test login" through a connector in a new tab that shows what the
 * IdP said and what airlock makes of it (groups, roles, namespace) without making a session; SP metadata for SAML.
 */
final class ConsoleSso {

  static final String TEST_FINISH = "/console/sso/test/finish/";
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory()
      .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER).enable(YAMLGenerator.Feature.MINIMIZE_QUOTES));
  private static final String OIDC_TEMPLATE = """
      name: NAME
      type: oidc
      displayName: Company SSO
      issuer: https://idp.corp.example/realms/corp
      clientId: airlock
      clientSecret: {env: AIRLOCK_OIDC_SECRET}
      groupsClaim: groups
      """;
  private static final String SAML_TEMPLATE = """
      name: NAME
      type: saml
      displayName: Company SAML
      entityId: https://airlock.corp.example/saml
      idpMetadata: {url: https://idp.corp.example/saml/metadata}
      groupsAttribute: groups
      """;

  private final AirlockServer server;
  private final ConsolePages pages;

  ConsoleSso(AirlockServer server, ConsolePages pages) {
    this.server = server;
    this.pages = pages;
  }

  void routes(Web web) {
    web.on("GET", "/console/sso", r -> pages.page(r, "sso", this::list));
    web.on("GET", "/console/sso/edit", r -> pages.page(r, "sso", this::editPage));
    web.on("POST", "/console/sso/edit", r -> pages.page(r, "sso", (v, p) -> save(r, v, p)));
    web.on("POST", "/console/sso/delete", r -> pages.page(r, "sso", (v, p) -> delete(r, v, p)));
    web.on("GET", "/console/sso/test", r -> pages.page(r, "sso", (v, p) -> test(r, p)));
    web.on("GET", "/console/sso/test/finish/([0-9a-f]{24})", r -> pages.page(r, "sso", (v, p) -> tested(r, v)));
  }

  private Web.Response list(ConsolePages.Viewer v, Map<String, String> params) {
    Map<String, Object> data = pages.base(v, "sso");
    List<Map<String, Object>> rows = new ArrayList<>();
    for (SsoConfig.Connector c : server.sso().connectors()) {
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("name", c.name());
      row.put("displayName", c.displayName());
      boolean saml = c instanceof SsoConfig.Saml;
      row.put("type", saml ? "SAML" : "OIDC");
      row.put("idp", saml ? String.valueOf(((SsoConfig.Saml) c).idpMetadataUrl() != null
          ? ((SsoConfig.Saml) c).idpMetadataUrl() : ((SsoConfig.Saml) c).idpMetadataFile())
          : String.valueOf(((SsoConfig.Oidc) c).issuer()));
      row.put("redirect", server.base() + (saml ? "/sso/saml/" + c.name() + "/acs" : "/sso/oidc/" + c.name()
          + "/callback"));
      row.put("metadata", saml ? "/sso/saml/" + c.name() + "/metadata" : null);
      rows.add(row);
    }
    data.put("connectors", rows);
    data.put("done", pages.flash(params, "done"));
    return pages.html(200, "sso", data);
  }

  private Web.Response editPage(ConsolePages.Viewer v, Map<String, String> params) throws IOException {
    String name = params.getOrDefault("connector", "");
    String text;
    if (name.isEmpty()) {
      text = "saml".equals(params.get("type")) ? SAML_TEMPLATE : OIDC_TEMPLATE;
    } else {
      JsonNode found = find(document(), name);
      if (found == null) {
        throw new AirlockException(Kind.BAD_INPUT, "there is no connector " + name, "pick one on the SSO page")
            .with("status", "404");
      }
      text = YAML.writeValueAsString(found);
    }
    return editor(v, 200, name, text, null);
  }

  private Web.Response editor(ConsolePages.Viewer v, int status, String original, String text, String error) {
    Map<String, Object> data = pages.base(v, "sso");
    data.put("original", original);
    data.put("text", text);
    data.put("error", error);
    return pages.html(status, "sso-edit", data);
  }

  /** The stored configuration as a tree (a new one when none is stored). */
  private ObjectNode document() throws IOException {
    String text = server.ssoText();
    JsonNode doc = text.isBlank() ? null : YAML.readTree(text);
    if (!(doc instanceof ObjectNode o)) {
      ObjectNode fresh = YAML.createObjectNode();
      fresh.put("apiVersion", SsoConfig.API_VERSION);
      fresh.put("kind", SsoConfig.KIND);
      fresh.putArray("connectors");
      return fresh;
    }
    if (!o.path("connectors").isArray()) {
      o.putArray("connectors");
    }
    return o;
  }

  private static JsonNode find(ObjectNode doc, String name) {
    for (JsonNode c : doc.path("connectors")) {
      if (name.equals(c.path("name").asText())) {
        return c;
      }
    }
    return null;
  }

  /**
   * One connector's YAML, put in place of {@code original} (or added): the whole configuration is checked as the
   * CLI checks {@code sso.yaml}, the IdP is reached, and only then is it stored.
   */
  private Web.Response save(Web.Request r, ConsolePages.Viewer v, Map<String, String> p) throws IOException {
    String original = p.getOrDefault("original", "").strip();
    String text = p.getOrDefault("connector", "");
    try {
      JsonNode node;
      try {
        node = YAML.readTree(text);
      } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
        throw new AirlockException(Kind.BAD_INPUT, "the connector is not valid YAML: " + e.getOriginalMessage(),
            "write one connector as a YAML map (name, type, ...), as in docs/sso.md");
      }
      if (!(node instanceof ObjectNode connector) || connector.path("name").asText("").isEmpty()) {
        throw new AirlockException(Kind.BAD_INPUT, "the connector must be a YAML map with a name",
            "start from the template: name, type, ... (docs/sso.md)");
      }
      String name = connector.path("name").asText();
      ObjectNode doc = document();
      ArrayNode connectors = (ArrayNode) doc.get("connectors");
      int at = -1;
      for (int i = 0; i < connectors.size(); i++) {
        String n = connectors.get(i).path("name").asText();
        if (n.equals(original)) {
          at = i;
        } else if (n.equals(name)) {
          throw new AirlockException(Kind.BAD_INPUT, "a connector named " + name + " exists already",
              "choose another name, or edit that one");
        }
      }
      if (at >= 0) {
        connectors.set(at, connector);
      } else {
        connectors.add(connector);
      }
      String whole = YAML.writeValueAsString(doc);
      SsoConfig parsed = SsoConfig.parse("connector " + name, whole, server.secretsBase());
      try {
        server.probe(parsed.connector(name));
      } catch (AirlockException e) {
        throw new AirlockException(Kind.BAD_INPUT, "connector " + name + " cannot be used: " + e.getMessage(),
            e.fix().orElse("check the issuer or metadata URL; the server must reach the IdP"));
      }
      server.storeSso(whole);
      server.audit().record(AuditLog.Event.of(ConsolePages.actor(v), "sso-config", name, original.isEmpty()
          ? "added" : "changed", "console " + r.remote()));
      return Web.Response.redirect("/console/sso?done=" + pages.flash((original.isEmpty() ? "Added " : "Saved ")
          + name + "."));
    } catch (AirlockException e) {
      return editor(v, 422, original, text, e.getMessage() + e.fix().map(f -> " — " + f).orElse(""));
    }
  }

  private Web.Response delete(Web.Request r, ConsolePages.Viewer v, Map<String, String> p) throws IOException {
    String name = p.getOrDefault("connector", "");
    ObjectNode doc = document();
    ArrayNode connectors = (ArrayNode) doc.get("connectors");
    for (int i = 0; i < connectors.size(); i++) {
      if (connectors.get(i).path("name").asText().equals(name)) {
        connectors.remove(i);
        server.storeSso(YAML.writeValueAsString(doc));
        server.audit().record(AuditLog.Event.of(ConsolePages.actor(v), "sso-config", name, "removed", "console "
            + r.remote()));
        return Web.Response.redirect("/console/sso?done=" + pages.flash("Removed " + name + "."));
      }
    }
    throw new AirlockException(Kind.BAD_INPUT, "there is no connector " + name, "reload the SSO page")
        .with("status", "404");
  }

  /** Starts a test login through a connector; this browser finishes it (the login cookie), no session is made. */
  private Web.Response test(Web.Request r, Map<String, String> p) throws IOException {
    AirlockServer.Begun b = server.beginLogin(p.get("connector"), true, true, r.remote());
    return pages.startLogin(b);
  }

  private Web.Response tested(Web.Request r, ConsolePages.Viewer v) throws IOException {
    Logins.Login l = server.logins().get(r.param(0));
    if (!l.test()) {
      throw new AirlockException(Kind.DENIED, "this login is not a connector test", "start it on the SSO page")
          .with("status", "403");
    }
    String result = server.logins().collect(l, pages.loginCookie(r));
    Map<String, Object> data = pages.base(v, "sso");
    data.put("result", result == null ? null : Web.JSON.convertValue(Web.JSON.readTree(result), Map.class));
    return pages.html(200, "sso-test", data);
  }
}
