package dev.airlock.oci;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * How to talk to registries.
 *
 * @param credentials where credentials come from
 * @param insecureHosts hosts reached over plain HTTP
 * @param caFiles extra PEM CA certificates trusted besides the JVM's
 * @param maxAttempts attempts per request on 5xx, 429 and dropped connections
 * @param initialBackoff first wait between attempts; doubles each time
 * @param requestTimeout timeout of one request (not of a whole blob download)
 */
public record RegistryOptions(CredentialStore credentials, Set<String> insecureHosts, List<Path> caFiles,
    int maxAttempts, Duration initialBackoff, Duration requestTimeout) {

  public RegistryOptions {
    insecureHosts = Set.copyOf(insecureHosts);
    caFiles = List.copyOf(caFiles);
    if (maxAttempts < 1) {
      throw new IllegalArgumentException("maxAttempts must be at least 1");
    }
  }

  public static RegistryOptions defaults() {
    return new RegistryOptions(CredentialStore.none(), Set.of(), List.of(), 5, Duration.ofMillis(250),
        Duration.ofSeconds(60));
  }

  public RegistryOptions withCredentials(CredentialStore c) {
    return new RegistryOptions(c, insecureHosts, caFiles, maxAttempts, initialBackoff, requestTimeout);
  }

  public RegistryOptions withInsecureHosts(Set<String> hosts) {
    return new RegistryOptions(credentials, hosts, caFiles, maxAttempts, initialBackoff, requestTimeout);
  }

  public RegistryOptions withCaFiles(List<Path> files) {
    return new RegistryOptions(credentials, insecureHosts, files, maxAttempts, initialBackoff, requestTimeout);
  }

  public RegistryOptions withRetries(int attempts, Duration backoff) {
    return new RegistryOptions(credentials, insecureHosts, caFiles, attempts, backoff, requestTimeout);
  }
}
