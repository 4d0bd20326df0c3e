package dev.airlock.installer.sso;

import dev.airlock.sso.SsoConfig;
import java.net.URI;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --config} and {@code --connector}, shared by the sso commands; and where airlock's SSO endpoints live. */
public class SsoOptions {

  @Option(names = "--config", paramLabel = "FILE", required = true,
      description = "the SSO config (kind: SSOConfig; docs/sso.md)")
  Path config;

  @Option(names = "--connector", paramLabel = "NAME", required = true, description = "the connector to use")
  String connector;

  SsoConfig read() {
    return SsoConfig.read(config);
  }

  /** Where the IdP sends an OIDC login back: {@code BASE/sso/oidc/NAME/callback}. */
  static URI callback(URI base, String connector) {
    return URI.create(strip(base) + "/sso/oidc/" + connector + "/callback");
  }

  /** Where the IdP posts a SAML response: {@code BASE/sso/saml/NAME/acs}. */
  static URI acs(URI base, String connector) {
    return URI.create(strip(base) + "/sso/saml/" + connector + "/acs");
  }

  private static String strip(URI base) {
    return base.toString().replaceAll("/+$", "");
  }
}
