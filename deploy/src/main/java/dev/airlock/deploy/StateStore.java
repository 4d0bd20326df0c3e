package dev.airlock.deploy;

import dev.airlock.kube.KubeTarget;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.airlock.error.AirlockException;
import dev.airlock.kube.KubeTarget;
import dev.airlock.error.AirlockException.Kind;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.util.Map;
import java.util.Optional;

/**
 * Keeps {@link State} in one ConfigMap, {@value #NAME}, in the installation's namespace (ADR 5). Every write
 * carries the resourceVersion it read, so two airlock processes cannot both change an installation: the second
 * write fails with a conflict instead of overwriting.
 */
public final class StateStore {

  public static final String NAME = "airlock-state";
  public static final String KEY = "state.json";
  public static final String LABEL_INSTALLATION = "airlock.dev/installation";
  public static final String LABEL_MANAGED_BY = KubeTarget.LABEL_MANAGED_BY;

  static final ObjectMapper JSON = new ObjectMapper().registerModule(new JavaTimeModule())
      .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  private final KubeTarget kube;
  private final String namespace;
  private String resourceVersion;

  public StateStore(KubeTarget kube, String namespace) {
    this.kube = kube;
    this.namespace = namespace;
  }

  public String namespace() {
    return namespace;
  }

  /** Reads the state; empty when this namespace holds no installation. */
  public Optional<State> load() {
    ConfigMap cm;
    try {
      cm = kube.client().configMaps().inNamespace(namespace).withName(NAME).get();
    } catch (KubernetesClientException e) {
      throw kube.failure("reading the installation record " + namespace + "/" + NAME, e);
    }
    if (cm == null) {
      resourceVersion = null;
      return Optional.empty();
    }
    resourceVersion = cm.getMetadata().getResourceVersion();
    String json = cm.getData() == null ? null : cm.getData().get(KEY);
    if (json == null) {
      throw new AirlockException(Kind.REMOTE, "ConfigMap " + namespace + "/" + NAME + " has no " + KEY
          + ": it was not written by airlock or was edited by hand", "restore it from a backup, or delete it "
          + "and install again (the Helm releases are kept)");
    }
    try {
      return Optional.of(JSON.readValue(json, State.class));
    } catch (IOException e) {
      throw new AirlockException(Kind.REMOTE, "the installation record " + namespace + "/" + NAME
          + " cannot be read: " + e.getMessage(), "restore it from a backup, or delete it and install again", e);
    }
  }

  /** Reads the state, or fails saying that nothing is installed in this namespace. */
  public State require() {
    return load().orElseThrow(() -> new AirlockException(Kind.BAD_INPUT, "nothing is installed in namespace "
        + namespace, "pass the installation's namespace with --namespace"));
  }

  /** Writes the state, creating the ConfigMap the first time (its namespace must exist: {@link #ensureNamespace}). */
  public void save(State state, String product) {
    String json;
    try {
      json = JSON.writerWithDefaultPrettyPrinter().writeValueAsString(state);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    try {
      if (resourceVersion == null) {
        ConfigMap created = kube.client().configMaps().inNamespace(namespace).resource(new ConfigMapBuilder()
            .withNewMetadata().withName(NAME).withNamespace(namespace)
            .addToLabels(LABEL_INSTALLATION, product).addToLabels(LABEL_MANAGED_BY, "airlock").endMetadata()
            .withData(Map.of(KEY, json)).build()).create();
        resourceVersion = created.getMetadata().getResourceVersion();
      } else {
        ConfigMap updated = kube.client().configMaps().inNamespace(namespace).resource(new ConfigMapBuilder()
            .withNewMetadata().withName(NAME).withNamespace(namespace).withResourceVersion(resourceVersion)
            .addToLabels(LABEL_INSTALLATION, product).addToLabels(LABEL_MANAGED_BY, "airlock").endMetadata()
            .withData(Map.of(KEY, json)).build()).update();
        resourceVersion = updated.getMetadata().getResourceVersion();
      }
    } catch (KubernetesClientException e) {
      if (e.getCode() == 409) {
        throw new AirlockException(Kind.REMOTE, "the installation record " + namespace + "/" + NAME + " was changed "
            + "by someone else while this operation ran", "make sure only one airlock works on this installation, "
            + "then run the command again: it resumes from the record", e);
      }
      throw kube.failure("writing the installation record " + namespace + "/" + NAME, e);
    }
  }

  /** Deletes the record (uninstall). */
  public void delete() {
    try {
      kube.client().configMaps().inNamespace(namespace).withName(NAME).delete();
      resourceVersion = null;
    } catch (KubernetesClientException e) {
      throw kube.failure("deleting the installation record " + namespace + "/" + NAME, e);
    }
  }

  /** Removes this installation's label from namespace {@code name}, if it exists. */
  void releaseNamespace(String name) {
    try {
      Namespace ns = kube.client().namespaces().withName(name).get();
      if (ns != null && ns.getMetadata().getLabels() != null
          && ns.getMetadata().getLabels().containsKey(LABEL_INSTALLATION)) {
        kube.client().namespaces().withName(name).edit(n -> new NamespaceBuilder(n).editMetadata()
            .removeFromLabels(LABEL_INSTALLATION).endMetadata().build());
      }
    } catch (KubernetesClientException e) {
      throw kube.failure("removing the installation label from namespace " + name, e);
    }
  }

  /** Creates {@code name} labelled as this installation's, or labels it if it exists unlabelled. */
  void ensureNamespace(String name, String product) {
    try {
      Namespace ns = kube.client().namespaces().withName(name).get();
      if (ns == null) {
        kube.client().namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(name)
            .addToLabels(LABEL_INSTALLATION, product).addToLabels(LABEL_MANAGED_BY, "airlock").endMetadata()
            .build()).create();
      } else if (ns.getMetadata().getLabels() == null
          || !ns.getMetadata().getLabels().containsKey(LABEL_INSTALLATION)) {
        kube.client().namespaces().withName(name).edit(n -> new NamespaceBuilder(n).editMetadata()
            .addToLabels(LABEL_INSTALLATION, product).endMetadata().build());
      }
    } catch (KubernetesClientException e) {
      throw kube.failure("creating or labelling namespace " + name, e);
    }
  }
}
