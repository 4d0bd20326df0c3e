package dev.airlock.installer.sso;

import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.installer.cli.Console;
import dev.airlock.installer.cli.OutputOptions;
import dev.airlock.sso.ReplayCache;
import dev.airlock.sso.SsoConfig;
import dev.airlock.sso.saml.SamlServiceProvider;
import java.net.URI;
import java.time.Clock;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code airlock sso metadata}: the SP metadata of a SAML connector, for the IdP's administrators. */
@Command(name = "metadata", mixinStandardHelpOptions = true, description = {"Print the SAML service provider "
    + "metadata of a connector (entity id, assertion consumer URL, encryption certificate), to import into the IdP.",
    "The assertion consumer URL is URL/sso/saml/CONNECTOR/acs."})
public class SsoMetadataCommand implements Callable<Integer> {

  @Mixin SsoOptions sso;

  @Option(names = "--url", paramLabel = "URL", defaultValue = SsoTestCommand.DEFAULT_URL,
      description = "airlock's address as browsers reach it (default: ${DEFAULT-VALUE}, where `airlock sso test` "
          + "listens)")
  URI url;

  @Mixin OutputOptions output;

  record Metadata(String connector, String entityId, String acsUrl, String xml) {}

  @Override
  public Integer call() {
    SsoConfig config = sso.read();
    SsoConfig.Connector c = config.connector(sso.connector);
    if (!(c instanceof SsoConfig.Saml saml)) {
      throw new AirlockException(Kind.BAD_INPUT, "connector " + c.name() + " is OIDC: SAML metadata is for SAML "
          + "connectors", "register this redirect URI with the OIDC client instead: "
          + SsoOptions.callback(url, c.name()));
    }
    URI acs = SsoOptions.acs(url, saml.name());
    // The metadata needs no IdP: the SP's own settings only.
    String xml = new SamlServiceProvider(saml, null, ReplayCache.inMemory(), Clock.systemUTC()).metadata(acs);
    new Console(output).result(xml.stripTrailing(), new Metadata(saml.name(), saml.entityId(), acs.toString(), xml));
    return 0;
  }
}
