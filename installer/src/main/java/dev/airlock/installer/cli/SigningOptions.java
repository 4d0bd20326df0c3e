package dev.airlock.installer.cli;

import dev.airlock.keys.SigningKey;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --key} and {@code --cert}: the vendor signing key that signs bundles and licenses. */
public class SigningOptions {

  @Option(names = "--key", required = true, paramLabel = "FILE", description = "signing private key (signing.key)")
  Path key;

  @Option(names = "--cert", required = true, paramLabel = "FILE",
      description = "its certificate from the vendor root (signing.cert)")
  Path cert;

  public SigningKey load() {
    return SigningKey.load(key, cert);
  }
}
