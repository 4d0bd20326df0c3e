package dev.airlock.airgap.install;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.Release;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * Helm releases through helm-java, plus what helm-java lacks, built from the records Helm keeps: each revision is a
 * Secret {@code sh.helm.release.v1.<name>.v<revision>} (labels {@code owner=helm}, {@code name}, {@code status},
 * {@code version}) whose {@code release} key is base64 of gzip of the release JSON (chart, values, manifest).
 */
public final class Releases {

  private final KubeTarget kube;

  public Releases(KubeTarget kube) {
    this.kube = kube;
  }

  /** One revision as Helm recorded it. */
  public record Revision(String name, String namespace, int revision, String status, ObjectNode release) {}

  /** Every recorded revision of a release, oldest first. */
  public List<Revision> history(String name, String namespace) {
    List<Secret> secrets;
    try {
      secrets = kube.client().secrets().inNamespace(namespace).withLabel("owner", "helm").withLabel("name", name)
          .list().getItems();
    } catch (KubernetesClientException e) {
      throw kube.failure("reading the Helm history of release " + namespace + "/" + name, e);
    }
    List<Revision> out = new ArrayList<>();
    for (Secret s : secrets) {
      Map<String, String> labels = s.getMetadata().getLabels();
      out.add(new Revision(name, namespace, Integer.parseInt(labels.getOrDefault("version", "0")),
          labels.getOrDefault("status", "unknown"), decode(s)));
    }
    out.sort(Comparator.comparingInt(Revision::revision));
    return out;
  }

  /** The newest revision, if the release exists. */
  public Optional<Revision> latest(String name, String namespace) {
    List<Revision> h = history(name, namespace);
    return h.isEmpty() ? Optional.empty() : Optional.of(h.get(h.size() - 1));
  }

  /**
   * Installs or upgrades {@code release} from a chart directory. A release a killed airlock left pending (or whose
   * only revisions failed) is first made upgradable: pending revisions are marked failed; a release with no
   * deployed revision is uninstalled and installed anew, as Helm cannot upgrade it.
   */
  public Release apply(String release, String namespace, Path chartDir, String description, int timeoutSeconds,
      boolean waitReady) {
    List<Revision> h = history(release, namespace);
    if (!h.isEmpty()) {
      for (Revision r : h) {
        if (r.status().startsWith("pending-")) {
          markFailed(r, "interrupted: airlock was stopped during this operation");
        }
      }
      if (history(release, namespace).stream().noneMatch(r -> r.status().equals("deployed")
          || r.status().equals("superseded"))) {
        uninstall(release, namespace);
      }
    }
    var upgrade = new Helm(chartDir).upgrade().install().withName(release).withNamespace(namespace)
        .withKubeConfig(kube.helmKubeconfig()).withTimeout(timeoutSeconds).withDescription(description);
    if (waitReady) {
      upgrade = upgrade.waitReady();
    }
    try {
      return upgrade.call();
    } catch (RuntimeException e) {
      throw new AirlockException(Kind.REMOTE, "Helm could not install release " + namespace + "/" + release + ": "
          + e.getMessage(), "see the message; 'airlock status' shows every release", e);
    }
  }

  /** Uninstalls a release (PVCs created by StatefulSets stay, as with Helm). No-op if it does not exist. */
  public void uninstall(String release, String namespace) {
    try {
      Helm.uninstall(release).withNamespace(namespace).withKubeConfig(kube.helmKubeconfig()).ignoreNotFound().call();
    } catch (RuntimeException e) {
      throw new AirlockException(Kind.REMOTE, "Helm could not uninstall release " + namespace + "/" + release + ": "
          + e.getMessage(), null, e);
    }
  }

  /**
   * Restores revision {@code to} the way {@code helm rollback} does: its chart and values, written out as a chart
   * directory, applied as a new revision.
   */
  public Release rollback(String release, String namespace, int to, Path workDir, int timeoutSeconds,
      boolean waitReady) {
    Revision target = history(release, namespace).stream().filter(r -> r.revision() == to).findFirst()
        .orElseThrow(() -> new AirlockException(Kind.REMOTE, "release " + namespace + "/" + release
            + " has no revision " + to + " to roll back to", "see its revisions in 'airlock status'"));
    Path dir = writeChart(target, workDir);
    return apply(release, namespace, dir, "Rollback to " + to, timeoutSeconds, waitReady);
  }

  /** Writes a recorded revision's chart (metadata, templates, files, values merged with its config) to disk. */
  Path writeChart(Revision revision, Path workDir) {
    JsonNode chart = revision.release().path("chart");
    try {
      Path dir = Files.createDirectories(workDir.resolve(revision.name() + "-v" + revision.revision()));
      var yaml = new com.fasterxml.jackson.databind.ObjectMapper(
          new com.fasterxml.jackson.dataformat.yaml.YAMLFactory());
      Files.write(dir.resolve("Chart.yaml"), yaml.writeValueAsBytes(chart.path("metadata")));
      ObjectNode values = chart.path("values") instanceof ObjectNode v ? v.deepCopy() : yaml.createObjectNode();
      if (revision.release().path("config") instanceof ObjectNode config) {
        merge(values, config);
      }
      Files.write(dir.resolve("values.yaml"), yaml.writeValueAsBytes(values));
      for (String group : List.of("templates", "files")) {
        for (JsonNode f : chart.path(group)) {
          Path file = dir.resolve(f.path("name").asText()).normalize();
          if (!file.startsWith(dir)) {
            throw new AirlockException(Kind.REMOTE, "release record " + revision.name() + " v" + revision.revision()
                + " names a file outside its chart: " + f.path("name").asText(), null);
          }
          Files.createDirectories(file.getParent());
          Files.write(file, Base64.getDecoder().decode(f.path("data").asText()));
        }
      }
      return dir;
    } catch (IOException e) {
      throw new AirlockException(Kind.IO, "cannot write the chart of " + revision.name() + " revision "
          + revision.revision() + " to " + workDir + ": " + e.getMessage(), null, e);
    }
  }

  private static void merge(ObjectNode into, ObjectNode from) {
    from.fields().forEachRemaining(e -> {
      if (e.getValue() instanceof ObjectNode o && into.get(e.getKey()) instanceof ObjectNode t) {
        merge(t, o);
      } else {
        into.set(e.getKey(), e.getValue().deepCopy());
      }
    });
  }

  /** Marks a pending revision failed, so Helm lets the next operation proceed (what Helm does on its own errors). */
  void markFailed(Revision r, String why) {
    ObjectNode release = r.release().deepCopy();
    ObjectNode info = release.with("info");
    info.put("status", "failed");
    info.put("description", why);
    String key = "sh.helm.release.v1." + r.name() + ".v" + r.revision();
    try {
      kube.client().secrets().inNamespace(r.namespace()).withName(key).edit(s -> new SecretBuilder(s)
          .editMetadata().addToLabels("status", "failed").endMetadata()
          .addToData("release", Base64.getEncoder().encodeToString(encode(release))).build());
    } catch (KubernetesClientException e) {
      throw kube.failure("marking the interrupted Helm revision " + key + " failed", e);
    }
  }

  static ObjectNode decode(Secret s) {
    String data = s.getData() == null ? null : s.getData().get("release");
    if (data == null) {
      throw new AirlockException(Kind.REMOTE, "Helm release Secret " + s.getMetadata().getName() + " has no release "
          + "data", "it was edited by hand; restore it or uninstall the release");
    }
    try {
      byte[] helmBase64 = Base64.getDecoder().decode(data);
      byte[] gz = Base64.getDecoder().decode(new String(helmBase64, StandardCharsets.US_ASCII).strip());
      byte[] json;
      try (var in = new GZIPInputStream(new ByteArrayInputStream(gz))) {
        json = in.readAllBytes();
      }
      return (ObjectNode) StateStore.JSON.readTree(json);
    } catch (IOException | IllegalArgumentException | ClassCastException e) {
      throw new AirlockException(Kind.REMOTE, "Helm release Secret " + s.getMetadata().getName() + " cannot be "
          + "decoded: " + e.getMessage(), null, e);
    }
  }

  /** Helm's encoding: base64 (the Secret's own base64 is added by the caller) of gzip of JSON. */
  static byte[] encode(ObjectNode release) {
    try {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      try (var gz = new GZIPOutputStream(bytes)) {
        gz.write(StateStore.JSON.writeValueAsBytes(release));
      }
      return Base64.getEncoder().encode(bytes.toByteArray());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
