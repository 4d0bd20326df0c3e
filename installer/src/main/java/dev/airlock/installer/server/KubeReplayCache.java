package dev.airlock.installer.server;

import dev.airlock.kube.KubeTarget;
import dev.airlock.sso.ReplayCache;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Instant;

/**
 * The one-time values of logins (OIDC states and nonces, SAML request and assertion ids) remembered in the cluster,
 * so every replica refuses a value another one accepted: one ConfigMap per value, named by its hash; creating it is
 * the first use, and "already exists" is a replay. Expired ones are swept by {@link #expire}.
 */
final class KubeReplayCache implements ReplayCache {

  static final String PREFIX = "airlock-replay-";
  static final String LABEL = "airlock.dev/replay";
  static final String EXPIRES = "airlock.dev/expires";

  private final KubernetesClient client;
  private final String namespace;

  KubeReplayCache(KubernetesClient client, String namespace) {
    this.client = client;
    this.namespace = namespace;
  }

  @Override
  public boolean firstUse(String id, Instant expires, Instant now) {
    ConfigMap cm = new ConfigMapBuilder().withNewMetadata().withName(PREFIX + Sessions.sha256(id).substring(0, 40))
        .withNamespace(namespace).addToLabels(LABEL, "true").addToLabels(KubeTarget.LABEL_MANAGED_BY,
            KubeTarget.MANAGER).addToAnnotations(EXPIRES, expires.toString()).endMetadata().build();
    try {
      client.configMaps().inNamespace(namespace).resource(cm).create();
      return true;
    } catch (KubernetesClientException e) {
      if (e.getCode() == 409) {
        return false;
      }
      throw e;
    }
  }

  int expire(Instant now) {
    int n = 0;
    for (ConfigMap cm : client.configMaps().inNamespace(namespace).withLabel(LABEL, "true").list().getItems()) {
      String e = cm.getMetadata().getAnnotations() == null ? null : cm.getMetadata().getAnnotations().get(EXPIRES);
      if (e == null || Instant.parse(e).isBefore(now)) {
        client.configMaps().inNamespace(namespace).withName(cm.getMetadata().getName()).delete();
        n++;
      }
    }
    return n;
  }
}
