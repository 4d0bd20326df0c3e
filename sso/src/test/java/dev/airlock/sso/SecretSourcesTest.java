package dev.airlock.sso;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.airlock.error.AirlockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which files and variables a server lets its connectors name (issue 20, item 4). */
class SecretSourcesTest {

  @TempDir Path dir;
  @TempDir Path elsewhere;

  SsoConfig.Connector oidc(String clientSecret, String extra) {
    return SsoConfig.parse("sso.yaml", """
        apiVersion: airlock.dev/v1alpha1
        kind: SSOConfig
        connectors:
          - name: corp
            type: oidc
            issuer: https://idp.corp.example
            clientId: airlock
            clientSecret: %s
        %s""".formatted(clientSecret, extra.indent(4)), dir).connector("corp");
  }

  @Test
  void filesInsideTheDirectory_areRead_filesOutsideAreRefusedBeforeTheFileSystemIsAsked() throws Exception {
    Files.writeString(dir.resolve("client-secret"), "s3cret\n");
    Files.writeString(elsewhere.resolve("token"), "a ServiceAccount token");
    Files.createSymbolicLink(dir.resolve("link"), elsewhere.resolve("token"));
    SecretSources sources = new SecretSources(dir, SecretSources.DEFAULT_ENV);
    assertThatCode(() -> sources.resolveAll(oidc("{file: client-secret}", ""), Map.<String, String>of()::get))
        .doesNotThrowAnyException();
    for (String ref : List.of("{file: " + elsewhere.resolve("token") + "}", "{file: ../" + dir.relativize(elsewhere)
        .getFileName() + "/token}", "{file: link}", "{file: /nonexistent/x}", "{file: .}")) {
      assertThatThrownBy(() -> sources.check(oidc(ref, ""))).as(ref).isInstanceOf(AirlockException.class)
          .hasMessageContaining("clientSecret of connector corp").hasMessageContaining("outside the server's "
          + "secrets directory " + dir.toRealPath());
    }
    assertThatThrownBy(() -> sources.check(oidc("{file: client-secret}", "caFile: /etc/ssl/certs/x.pem")))
        .hasMessageContaining("caFile of connector corp");
  }

  @Test
  void withoutADirectory_noFileIsRead() {
    assertThatThrownBy(() -> new SecretSources(null, SecretSources.DEFAULT_ENV).check(oidc("{file: s}", "")))
        .hasMessageContaining("reads files only from a secrets directory")
        .satisfies(e -> assertThat(((AirlockException) e).fix().orElse("")).contains("--secrets-dir"));
  }

  @Test
  void variables_onlyByAllowedNamesAndGlobs() {
    SecretSources sources = new SecretSources(null, List.of("OKTA_SECRET", "AIRLOCK_SSO_*"));
    Map<String, String> env = Map.of("OKTA_SECRET", "a", "AIRLOCK_SSO_CORP", "b", "HOME", "/root");
    assertThatCode(() -> sources.resolveAll(oidc("{env: OKTA_SECRET}", ""), env::get)).doesNotThrowAnyException();
    assertThatCode(() -> sources.resolveAll(oidc("{env: AIRLOCK_SSO_CORP}", ""), env::get))
        .doesNotThrowAnyException();
    assertThatThrownBy(() -> sources.resolveAll(oidc("{env: HOME}", ""), env::get))
        .hasMessageContaining("environment variable HOME, which this server does not read secrets from")
        .satisfies(e -> assertThat(((AirlockException) e).fix().orElse("")).contains("--secret-env HOME"));
    assertThat(sources.environment(env::get).apply("HOME")).isNull();
    assertThat(sources.environment(env::get).apply("OKTA_SECRET")).isEqualTo("a");
  }
}
