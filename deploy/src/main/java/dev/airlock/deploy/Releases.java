package dev.airlock.deploy;

import dev.airlock.bundle.helm.HelmRuntime;
import dev.airlock.kube.KubeTarget;
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

  public static final String DEPLOYED = "deployed";
  public static final String SUPERSEDED = "superseded";

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
      if (history(release, namespace).stream().noneMatch(r -> r.status().equals(DEPLOYED)
          || r.status().equals(SUPERSEDED))) {
        uninstall(release, namespace);
      }
    }
    return upgrade(release, namespace, chartDir, description, timeoutSeconds, waitReady);
  }

  private Release upgrade(String release, String namespace, Path chartDir, String description, int timeoutSeconds,
      boolean waitReady) {
    HelmRuntime.ensureLoaded();
    var upgrade = new Helm(chartDir).upgrade().install().withName(release).withNamespace(namespace)
        .withKubeConfig(kube.helmKubeconfig()).withTimeout(timeoutSeconds).withDescription(description);
    if (waitReady) {
      upgrade = upgrade.waitReady();
    }
    Release r;
    try {
      r = upgrade.call();
    } catch (RuntimeException e) {
      throw new AirlockException(Kind.REMOTE, "Helm could not apply release " + namespace + "/" + release + ": "
          + dev.airlock.bundle.Charts.helmMessage(e), waitReady ? "see the message; with --wait, a workload that does not become ready"
          + " within --timeout " + timeoutSeconds + " fails the release ('kubectl get pods -n " + namespace
          + "' shows which)" : "see the message; 'airlock status' shows every release", e)
          .with(AirlockException.RESOURCE, namespace + "/" + release);
    }
    if (!DEPLOYED.equals(r.getStatus())) {
      throw new AirlockException(Kind.REMOTE, "release " + namespace + "/" + release + " ended " + r.getStatus(),
          "see 'airlock status'").with(AirlockException.RESOURCE, namespace + "/" + release);
    }
    return r;
  }

  /** Uninstalls a release (PVCs created by StatefulSets stay, as with Helm). No-op if it does not exist. */
  public void uninstall(String release, String namespace) {
    try {
      HelmRuntime.ensureLoaded();
      Helm.uninstall(release).withNamespace(namespace).withKubeConfig(kube.helmKubeconfig()).ignoreNotFound().call();
    } catch (RuntimeException e) {
      throw new AirlockException(Kind.REMOTE, "Helm could not uninstall release " + namespace + "/" + release + ": "
          + e.getMessage(), null, e);
    }
  }

  /**
   * Puts release {@code name} back at revision {@code to} the way {@code helm rollback} does, and records that as a
   * new revision. What matters is the change Helm computes: {@code helm rollback} patches the live objects from the
   * <em>newest</em> revision's manifest (deployed, failed or left pending) to the target's, so every field the newest
   * revision added, changed or removed is put back and objects it added are deleted. A plain upgrade would diff from
   * the last <em>deployed</em> revision instead and keep a failed revision's changes. So the newest revision is first
   * marked deployed (the one before it superseded), then the target's chart and values are applied as an upgrade.
   * Only rollback hooks run, as upgrade hooks (helm-java has no rollback call; ADR 9).
   *
   * @return what it did, for people
   */
  public String restore(String release, String namespace, int to, Path workDir, int timeoutSeconds,
      boolean waitReady) {
    List<Revision> h = history(release, namespace);
    Revision target = h.stream().filter(r -> r.revision() == to).findFirst()
        .orElseThrow(() -> new AirlockException(Kind.REMOTE, "release " + namespace + "/" + release
            + " has no revision " + to + " to roll back to", "see its revisions in 'airlock status'")
            .with(AirlockException.RESOURCE, namespace + "/" + release));
    Revision newest = h.get(h.size() - 1);
    if (newest.revision() == to && DEPLOYED.equals(newest.status())) {
      return namespace + "/" + release + " is at revision " + to;
    }
    if (!DEPLOYED.equals(newest.status())) {
      for (Revision r : h) {
        if (r != newest && DEPLOYED.equals(r.status())) {
          setStatus(r, SUPERSEDED, null);
        }
      }
      setStatus(newest, DEPLOYED, "marked deployed by airlock to roll back from it (was " + newest.status() + ")");
    }
    Path dir = writeChart(target, workDir, true);
    Release back = upgrade(release, namespace, dir, "Rollback to " + to, timeoutSeconds, waitReady);
    return namespace + "/" + release + " back at revision " + to + " (as revision " + back.getRevision() + ")";
  }

  /**
   * Writes a recorded revision's chart (metadata, templates, files, values merged with its config) to disk. With
   * {@code forRollback}, the hooks of an airlock-rendered chart are those {@code helm rollback} would run: rollback
   * hooks, as upgrade hooks; other hooks are left out.
   */
  Path writeChart(Revision revision, Path workDir, boolean forRollback) {
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
          byte[] data = Base64.getDecoder().decode(f.path("data").asText());
          if (forRollback && f.path("name").asText().equals(ChartRenderer.RENDERED_MANIFESTS)) {
            data = rollbackHooks(new String(data, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8);
          }
          Files.write(file, data);
        }
      }
      return dir;
    } catch (IOException e) {
      throw new AirlockException(Kind.IO, "cannot write the chart of " + revision.name() + " revision "
          + revision.revision() + " to " + workDir + ": " + e.getMessage(), null, e);
    }
  }

  /** Keeps the objects that are not hooks, and rollback hooks turned into upgrade hooks. */
  @SuppressWarnings("unchecked")
  static String rollbackHooks(String manifests) {
    StringBuilder out = new StringBuilder();
    org.yaml.snakeyaml.Yaml yaml = ChartRenderer.yaml();
    for (Object doc : new org.yaml.snakeyaml.Yaml(new org.yaml.snakeyaml.constructor.SafeConstructor(
        new org.yaml.snakeyaml.LoaderOptions())).loadAll(manifests)) {
      if (!(doc instanceof Map<?, ?> object) || object.isEmpty()) {
        continue;
      }
      Object meta = object.get("metadata");
      Object ann = meta instanceof Map<?, ?> m ? m.get("annotations") : null;
      Object hook = ann instanceof Map<?, ?> a ? a.get(dev.airlock.bundle.ChartArchive.HOOK) : null;
      if (hook != null) {
        List<String> events = new ArrayList<>();
        for (String e : String.valueOf(hook).split(",")) {
          String ev = e.strip();
          if (ev.equals("pre-rollback")) {
            events.add("pre-upgrade");
          } else if (ev.equals("post-rollback")) {
            events.add("post-upgrade");
          }
        }
        if (events.isEmpty()) {
          continue;
        }
        ((Map<String, Object>) ann).put(dev.airlock.bundle.ChartArchive.HOOK, String.join(",", events));
      }
      out.append("---\n").append(yaml.dump(object));
    }
    return out.toString();
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
    setStatus(r, "failed", why);
  }

  /** Rewrites a revision's status (and description, if given) in its release Secret, label and record alike. */
  void setStatus(Revision r, String status, String description) {
    ObjectNode release = r.release().deepCopy();
    ObjectNode info = release.with("info");
    info.put("status", status);
    if (description != null) {
      info.put("description", description);
    }
    String key = "sh.helm.release.v1." + r.name() + ".v" + r.revision();
    try {
      kube.client().secrets().inNamespace(r.namespace()).withName(key).edit(s -> new SecretBuilder(s)
          .editMetadata().addToLabels("status", status).endMetadata()
          .addToData("release", Base64.getEncoder().encodeToString(encode(release))).build());
    } catch (KubernetesClientException e) {
      throw kube.failure("marking Helm revision " + key + " " + status, e);
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
