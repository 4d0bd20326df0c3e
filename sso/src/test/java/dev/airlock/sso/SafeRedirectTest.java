package dev.airlock.sso;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The open-redirect part of the catalogue: after a login, only paths on airlock itself. */
class SafeRedirectTest {

  @ParameterizedTest
  @ValueSource(strings = {"https://evil.example/", "//evil.example", "///evil.example", "/\\evil.example",
      "\\\\evil.example", "/%2F%2Fevil.example", "/%5cevil.example", "javascript:alert(1)", "evil.example",
      " /console", "/console\r\nSet-Cookie: x=1", "/console%0d%0aSet-Cookie:x", "/a#@evil.example",
      "http:/evil.example", "/\tevil", "/%00"})
  void otherSites_fallBack(String target) {
    assertThat(SafeRedirect.target(target, "/")).isEqualTo("/");
  }

  @ParameterizedTest
  @ValueSource(strings = {"/", "/console", "/console/installations?ns=airlock-system", "/api/v1/me",
      "/console/a%20b"})
  void pathsOnAirlock_areKept(String target) {
    assertThat(SafeRedirect.target(target, "/")).isEqualTo(target);
  }
}
