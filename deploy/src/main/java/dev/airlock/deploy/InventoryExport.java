package dev.airlock.deploy;

import dev.airlock.kube.KubeTarget;
import com.fasterxml.jackson.databind.JsonNode;
import dev.airlock.airgap.inventory.Inventory;
import dev.airlock.airgap.push.RegistryTarget;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.oci.CredentialStore;
import dev.airlock.oci.Credentials;
import dev.airlock.oci.ImageReference;
import dev.airlock.oci.RegistryClient;
import dev.airlock.oci.RegistryOptions;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The inventory of an installation's registry: every blob of every image the installation records, read with the
 * registry settings the install recorded (and its pull Secret's credentials), so no registry flag is needed.
 */
public final class InventoryExport {

  private InventoryExport() {}

  public static Inventory export(KubeTarget kube, String namespace, RegistryOptions options) {
    State state = new StateStore(kube, namespace).require();
    State.Installation i = state.installation();
    if (i == null) {
      throw new AirlockException(Kind.BAD_INPUT, "no completed installation in " + namespace,
          "finish the install first");
    }
    RegistryTarget target = RegistryTarget.parse(i.registry());
    java.nio.file.Path work;
    try {
      work = java.nio.file.Files.createTempDirectory("airlock-inventory");
    } catch (java.io.IOException e) {
      throw new AirlockException(Kind.IO, "cannot create a work directory: " + e.getMessage(),
          "set TMPDIR to a writable directory", e);
    }
    try {
      RegistryOptions recorded = withPullSecret(kube, namespace, RecordedRegistry.options(i, options, work),
          target.registry());
      return Inventory.collect(new RegistryClient(recorded), i.product(), i.version(), i.registry(),
          i.images().values());
    } finally {
      dev.airlock.io.TempTrees.delete(work);
    }
  }

  /**
   * {@code options} with, as a fallback, the credentials in the installation's image pull Secret: operations after
   * the install need no registry password on the command line.
   */
  public static RegistryOptions withPullSecret(KubeTarget kube, String namespace, RegistryOptions options,
      String host) {
    if (options.credentials().lookup(host).isPresent()) {
      return options;
    }
    Optional<Credentials> stored = pullSecretCredentials(kube, namespace, host);
    if (stored.isEmpty()) {
      return options;
    }
    return options.withCredentials(CredentialStore.chain(List.of(options.credentials(),
        h -> h.equals(host) ? stored : Optional.empty())));
  }

  static Optional<Credentials> pullSecretCredentials(KubeTarget kube, String namespace, String host) {
    Secret s;
    try {
      s = kube.client().secrets().inNamespace(namespace).withName(ChartRenderer.PULL_SECRET).get();
    } catch (KubernetesClientException e) {
      return Optional.empty();
    }
    if (s == null || s.getData() == null || !s.getData().containsKey(".dockerconfigjson")) {
      return Optional.empty();
    }
    try {
      JsonNode auth = StateStore.JSON.readTree(Base64.getDecoder().decode(s.getData().get(".dockerconfigjson")))
          .path("auths").path(host).path("auth");
      if (auth.isMissingNode()) {
        return Optional.empty();
      }
      String userPass = new String(Base64.getDecoder().decode(auth.asText()), StandardCharsets.UTF_8);
      int colon = userPass.indexOf(':');
      return colon < 0 ? Optional.empty()
          : Optional.of(new Credentials(userPass.substring(0, colon), userPass.substring(colon + 1)));
    } catch (IOException | IllegalArgumentException e) {
      return Optional.empty();
    }
  }
}
