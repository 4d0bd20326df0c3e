package dev.airlock.installer.cli;

import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.oci.CredentialStore;
import dev.airlock.oci.Credentials;
import dev.airlock.oci.DockerConfigCredentials;
import dev.airlock.oci.RegistryOptions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import picocli.CommandLine.Option;

/** Registry access flags shared by commands that talk to registries. */
public class RegistryFlags {

  @Option(names = "--registry-username", paramLabel = "USER",
      description = "username for the registries; the password comes from --registry-password-stdin")
  public String username;

  @Option(names = "--registry-password-stdin",
      description = "read the registry password (or token) from standard input")
  public boolean passwordStdin;

  @Option(names = "--insecure-registry", paramLabel = "HOST[:PORT]",
      description = "talk plain HTTP to this registry; repeatable")
  public List<String> insecure = new ArrayList<>();

  @Option(names = "--registry-ca", paramLabel = "FILE",
      description = "trust this PEM CA certificate for registry TLS (a company CA); repeatable")
  public List<Path> caFiles = new ArrayList<>();

  @Option(names = "--retries", paramLabel = "N", defaultValue = "5",
      description = "attempts per registry request on 5xx, 429 and dropped connections (default: ${DEFAULT-VALUE})")
  public int retries = 5;

  public RegistryOptions options() {
    for (Path ca : caFiles) {
      if (!Files.isRegularFile(ca)) {
        throw new AirlockException(Kind.BAD_INPUT, "--registry-ca " + ca + " does not exist", "check the path");
      }
    }
    if (retries < 1 || retries > 20) {
      throw new AirlockException(Kind.BAD_INPUT, "--retries must be between 1 and 20", null);
    }
    List<CredentialStore> stores = new ArrayList<>();
    if (username != null || passwordStdin) {
      if (username == null || !passwordStdin) {
        throw new AirlockException(Kind.BAD_INPUT, "--registry-username and --registry-password-stdin go together",
            "pass both, e.g. echo \"$PASSWORD\" | airlock ... --registry-username me --registry-password-stdin");
      }
      Credentials c = new Credentials(username, readPassword());
      stores.add(host -> Optional.of(c));
    }
    stores.add(DockerConfigCredentials.fromDefaultLocation());
    Set<String> hosts = new HashSet<>(insecure);
    return RegistryOptions.defaults().withCredentials(CredentialStore.chain(stores)).withInsecureHosts(hosts)
        .withCaFiles(caFiles).withRetries(retries, RegistryOptions.defaults().initialBackoff());
  }

  private static String readPassword() {
    try {
      String p = new String(System.in.readNBytes(64 * 1024), StandardCharsets.UTF_8);
      p = p.replaceAll("[\r\n]+$", "");
      if (p.isEmpty()) {
        throw new AirlockException(Kind.BAD_INPUT, "--registry-password-stdin was given but standard input is empty",
            "pipe the password in: echo \"$PASSWORD\" | airlock ...");
      }
      return p;
    } catch (IOException e) {
      throw new AirlockException(Kind.IO, "cannot read the password from standard input", null, e);
    }
  }
}
