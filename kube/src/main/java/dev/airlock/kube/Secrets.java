package dev.airlock.kube;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** Secrets airlock owns: built labelled as airlock's, written whole (created, or replacing the one of that name). */
public final class Secrets {

  private Secrets() {}

  /** An Opaque Secret with text values. */
  public static Secret opaque(String namespace, String name, Map<String, String> data) {
    Map<String, String> encoded = new LinkedHashMap<>();
    data.forEach((k, v) -> encoded.put(k, Base64.getEncoder().encodeToString(v.getBytes(StandardCharsets.UTF_8))));
    return new SecretBuilder().withNewMetadata().withName(name).withNamespace(namespace)
        .addToLabels(KubeTarget.LABEL_MANAGED_BY, KubeTarget.MANAGER).endMetadata().withType("Opaque")
        .withData(encoded).build();
  }

  /** The text value of {@code key} in a Secret, if present. */
  public static Optional<String> value(Secret s, String key) {
    if (s == null || s.getData() == null || !s.getData().containsKey(key)) {
      return Optional.empty();
    }
    return Optional.of(new String(Base64.getDecoder().decode(s.getData().get(key)), StandardCharsets.UTF_8));
  }

  /** Creates the Secret, or replaces the one of that name. */
  public static void apply(KubeTarget kube, Secret secret, String doing) {
    String ns = secret.getMetadata().getNamespace();
    String name = secret.getMetadata().getName();
    try {
      Secret existing = kube.client().secrets().inNamespace(ns).withName(name).get();
      if (existing == null) {
        kube.client().secrets().inNamespace(ns).resource(secret).create();
      } else {
        secret.getMetadata().setResourceVersion(existing.getMetadata().getResourceVersion());
        kube.client().secrets().inNamespace(ns).resource(secret).update();
      }
    } catch (KubernetesClientException e) {
      throw kube.failure(doing + " " + ns + "/" + name, e);
    }
  }
}
