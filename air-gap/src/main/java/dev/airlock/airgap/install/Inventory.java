package dev.airlock.airgap.install;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
 * What the installation's registry holds: every blob (manifests, configs, layers) of every image the installation
 * records, read from the registry itself. A vendor builds a delta bundle against it ({@code bundle build
 * --delta-from inventory.json}).
 */
public final class Inventory {

  public static final String KIND = "Inventory";

  private Inventory() {}

  /** The inventory document: {@code {"kind":"Inventory", ..., "blobs":["sha256:…"]}}. */
  public static ObjectNode export(KubeTarget kube, String namespace, RegistryOptions options) {
    State state = new StateStore(kube, namespace).require();
    State.Installation i = state.installation();
    if (i == null) {
      throw new AirlockException(Kind.BAD_INPUT, "no completed installation in " + namespace,
          "finish the install first");
    }
    RegistryTarget target = RegistryTarget.parse(i.registry());
    RegistryClient client = new RegistryClient(withPullSecret(kube, namespace, options, target.registry()));
    Set<String> blobs = new TreeSet<>();
    List<String> images = new ArrayList<>();
    for (String pulled : i.images().values()) {
      ImageReference ref = ImageReference.parse(pulled);
      collect(client, ref.registry(), ref.repository(), ref.digest().toString(), blobs);
      images.add(pulled);
    }
    ObjectNode doc = StateStore.JSON.createObjectNode().put("apiVersion", "airlock.dev/v1alpha1").put("kind", KIND)
        .put("product", i.product()).put("version", i.version()).put("registry", i.registry());
    ArrayNode imgs = doc.putArray("images");
    images.forEach(imgs::add);
    ArrayNode list = doc.putArray("blobs");
    blobs.forEach(list::add);
    return doc;
  }

  private static void collect(RegistryClient client, String registry, String repository, String reference,
      Set<String> blobs) {
    RegistryClient.Manifest m = client.getManifest(registry, repository, reference);
    blobs.add(m.digest().toString());
    JsonNode json = m.json();
    for (JsonNode child : json.path("manifests")) {
      collect(client, registry, repository, child.path("digest").asText(), blobs);
    }
    if (json.has("config")) {
      blobs.add(json.path("config").path("digest").asText());
    }
    for (JsonNode layer : json.path("layers")) {
      blobs.add(layer.path("digest").asText());
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
