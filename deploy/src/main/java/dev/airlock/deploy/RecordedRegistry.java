package dev.airlock.deploy;

import dev.airlock.airgap.push.RegistryTarget;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.oci.Credentials;
import dev.airlock.oci.RegistryOptions;
import io.fabric8.kubernetes.api.model.Secret;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The registry settings an installation records at install — plain HTTP or the CA that signs its certificate — and
 * its image pull Secret, so upgrade, rollback and inventory reach the registry with no registry flags at all.
 */
final class RecordedRegistry {

  private RecordedRegistry() {}

  /** {@code given} completed with the installation's recorded settings (flags win). */
  static RegistryOptions options(State.Installation installed, RegistryOptions given, Path work) {
    RegistryOptions out = given;
    String host = RegistryTarget.parse(installed.registry()).registry();
    if (Boolean.TRUE.equals(installed.registryInsecure()) && !given.insecureHosts().contains(host)) {
      Set<String> hosts = new HashSet<>(given.insecureHosts());
      hosts.add(host);
      out = out.withInsecureHosts(hosts);
    }
    if (installed.registryCa() != null && given.caFiles().isEmpty()) {
      try {
        Path ca = Files.createDirectories(work).resolve("registry-ca.pem");
        Files.writeString(ca, installed.registryCa());
        out = out.withCaFiles(List.of(ca));
      } catch (IOException e) {
        throw new AirlockException(Kind.IO, "cannot write the recorded registry CA to " + work + ": "
            + e.getMessage(), "set TMPDIR to a writable directory", e);
      }
    }
    return out;
  }

  /** The PEM text of the CA files in {@code options}, to record; null when there are none. */
  static String caPem(RegistryOptions options) {
    if (options.caFiles().isEmpty()) {
      return null;
    }
    StringBuilder sb = new StringBuilder();
    for (Path f : options.caFiles()) {
      try {
        sb.append(Files.readString(f));
      } catch (IOException e) {
        throw new AirlockException(Kind.IO, "cannot read --registry-ca " + f + ": " + e.getMessage(), null, e);
      }
    }
    return sb.toString();
  }

  /** The image pull Secret for {@code host}: a {@code kubernetes.io/dockerconfigjson} with the credentials, if any. */
  static Secret pullSecret(String namespace, String host, Optional<Credentials> creds) {
    StringBuilder auths = new StringBuilder("{\"auths\":{");
    if (creds.isPresent()) {
      String auth = Base64.getEncoder().encodeToString((creds.get().username() + ":" + creds.get().password())
          .getBytes(StandardCharsets.UTF_8));
      auths.append('"').append(host).append("\":{\"auth\":\"").append(auth).append("\"}");
    }
    auths.append("}}");
    Secret s = dev.airlock.kube.Secrets.opaque(namespace, ChartRenderer.PULL_SECRET,
        java.util.Map.of(".dockerconfigjson", auths.toString()));
    s.setType("kubernetes.io/dockerconfigjson");
    return s;
  }
}
