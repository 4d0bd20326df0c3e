package dev.airlock.sso;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.airlock.error.AirlockException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class SsoConfigTest {

  static final String EXAMPLE = """
      apiVersion: airlock.dev/v1alpha1
      kind: SSOConfig
      connectors:
        - name: corp-oidc
          type: oidc
          issuer: https://idp.corp.example/realms/corp
          clientId: airlock
          clientSecret: {env: AIRLOCK_OIDC_SECRET}      # or {file: PATH}
          groupsClaim: groups
        - name: corp-saml
          type: saml
          entityId: airlock-sp                          # our SP entity id
          idpMetadata: {url: https://idp.corp.example/realms/corp/protocol/saml/descriptor}   # or {file: PATH}
          groupsAttribute: groups
      roleMappings:
        - {group: devs, roles: [developer]}
        - {group: qa, roles: [viewer]}
      """;

  static SsoConfig parse(String text) {
    return SsoConfig.parse("sso.yaml", text, Path.of("/etc/airlock"));
  }

  @Test
  void theIssuesExample_parses_withSafeDefaults() {
    SsoConfig c = parse(EXAMPLE);
    SsoConfig.Oidc o = (SsoConfig.Oidc) c.connector("corp-oidc");
    assertThat(o.clientAuth()).isEqualTo("client_secret_basic");
    assertThat(o.clientSecret().describe()).isEqualTo("environment variable AIRLOCK_OIDC_SECRET");
    assertThat(o.algorithms()).doesNotContain("none", "HS256");
    assertThat(o.scopes()).containsExactly("openid", "profile", "email");
    assertThat(o.clockSkew()).isEqualTo(Duration.ofSeconds(60));
    SsoConfig.Saml s = (SsoConfig.Saml) c.connector("corp-saml");
    assertThat(s.wantAssertionsSigned()).isTrue();
    assertThat(s.allowIdpInitiated()).isFalse();
    assertThat(c.roleMappings()).hasSize(2);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "an inline secret | 'clientSecret: {env: AIRLOCK_OIDC_SECRET}' | 'clientSecret: hunter2' | sso.yaml:8: connectors[0].clientSecret must name where the secret is",
      "an unknown field | 'groupsClaim: groups\n' | 'groupsClaim: groups\n    groupClaim: g\n' | sso.yaml:10: connectors[0].groupClaim is not a known field",
      "plain http to another host | https://idp.corp | http://idp.corp | sso.yaml:6: connectors[0].issuer 'http://idp.corp.example/realms/corp' is plain HTTP",
      "no type | 'type: oidc' | 'typ: oidc' | connectors[0].typ is not a known field",
      "a bad name | 'name: corp-oidc' | 'name: Corp_OIDC' | sso.yaml:4: connectors[0].name 'Corp_OIDC' must be a DNS label",
      "the same name twice | 'name: corp-saml' | 'name: corp-oidc' | connectors[1].name 'corp-oidc' names two connectors",
      "both url and file | '{url: https://idp.corp.example/realms/corp/protocol/saml/descriptor}' | '{url: https://x.example/md, file: md.xml}' | connectors[1].idpMetadata needs exactly one of url or file",
      "a rule without roles | '{group: qa, roles: [viewer]}' | '{group: qa}' | roleMappings[1].roles must name at least one role",
      "a rule for group and user | '{group: qa, roles: [viewer]}' | '{group: qa, user: bob, roles: [viewer]}' | roleMappings[1].group or user",
      "another apiVersion | airlock.dev/v1alpha1 | airlock.dev/v2 | sso.yaml:1: apiVersion is 'airlock.dev/v2'",
  })
  void mistakes_nameTheFileLineAndField(String what, String from, String to, String message) {
    String text = EXAMPLE.replace(from.replace("\\n", "\n"), to.replace("\\n", "\n"));
    assertThat(text).as("the edit applies").isNotEqualTo(EXAMPLE);
    assertThatThrownBy(() -> parse(text)).isInstanceOfSatisfying(AirlockException.class, e -> {
      assertThat(e.kind()).isEqualTo(AirlockException.Kind.BAD_INPUT);
      assertThat(e.getMessage()).contains(message);
      assertThat(e.fix()).contains("see docs/sso.md");
    });
  }

  @Test
  void algorithms_neverNone_hmacOnlyWithASecret() {
    assertThatThrownBy(() -> parse(EXAMPLE.replace("groupsClaim: groups", "groupsClaim: groups\n    algorithms: [RS256, none]")))
        .hasMessageContaining("must not allow 'none'");
    assertThatThrownBy(() -> parse(EXAMPLE.replace("clientSecret: {env: AIRLOCK_OIDC_SECRET}", "clientAuth: none")
        .replace("groupsClaim: groups", "groupsClaim: groups\n    algorithms: [HS256]")))
        .hasMessageContaining("allows HS256, which needs a client secret");
  }

  @Test
  void secrets_comeFromTheEnvironmentOrAFile_andSayWhichWhenMissing() {
    SecretRef env = new SecretRef("S", null);
    assertThat(env.resolve(Map.of("S", "v")::get)).isEqualTo("v");
    assertThatThrownBy(() -> env.resolve(Map.<String, String>of()::get)).hasMessageContaining("S is not set");
    assertThatThrownBy(() -> new SecretRef(null, Path.of("/nonexistent/secret")).resolve())
        .hasMessageContaining("/nonexistent/secret");
  }

  @Test
  void roleMappings_exactGlobAndUser_unionInRuleOrder() {
    List<RoleMapping> rules = parse(EXAMPLE.replace(
        "  - {group: qa, roles: [viewer]}\n",
        "  - {group: \"team-*\", roles: [viewer, developer]}\n  - {user: carol, roles: [admin]}\n"
            + "  - {claim: department, value: \"eng*\", roles: [builder]}\n")).roleMappings();
    assertThat(rules).hasSize(4);
    Identity id = new Identity("c", "s", "carol", null, null, List.of("team-a", "devs"), Instant.EPOCH,
        Instant.EPOCH, Map.of("department", List.of("engineering")));
    assertThat(RoleMapping.roles(rules, id)).containsExactly("developer", "viewer", "admin", "builder");
    Identity other = new Identity("c", "s", "dave", null, null, List.of("devsx", "team"), Instant.EPOCH,
        Instant.EPOCH, Map.of("department", List.of("sales")));
    assertThat(RoleMapping.roles(rules, other)).as("exact means exact; team-* needs the dash").isEmpty();
    assertThatThrownBy(() -> parse(EXAMPLE.replace("{group: qa, roles: [viewer]}", "{claim: department, roles: [x]}")))
        .hasMessageContaining("roleMappings[1].claim and value go together");
  }
}
