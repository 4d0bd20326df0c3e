package dev.airlock.deploy;

import dev.airlock.bundle.helm.HelmRuntime;
import com.marcnuri.helm.Helm;
import dev.airlock.airgap.push.RegistryTarget;
import dev.airlock.bundle.ChartArchive;
import dev.airlock.bundle.format.BundleManifest;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.oci.Digest;
import dev.airlock.oci.ImageReference;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.representer.Representer;

/**
 * Renders a component's chart as it will be installed and points every image at the private registry (ADR 6).
 *
 * <p>helm-java has no post-renderer, so airlock renders the chart itself ({@code helm template} with the bundle's
 * values, airlock's registry values and the admin's overrides), rewrites every pod template's images to
 * {@code <registry>/<prefix>/<path>:<tag>@<digest>} of the bundle, adds the image pull Secret, and installs the
 * result as a <em>rendered chart</em>: the original Chart.yaml metadata and CRDs, and one template that emits the
 * rewritten manifests verbatim. Helm then applies, records and upgrades it like any chart; hooks keep working
 * because Helm reads hook annotations per document.
 */
public final class ChartRenderer {

  /** The image pull Secret airlock creates in every target namespace. */
  public static final String PULL_SECRET = "airlock-registry";
  /** The file of a rendered chart that holds the manifests, emitted verbatim by its one template. */
  public static final String RENDERED_MANIFESTS = "rendered/manifests.yaml";

  private static final Set<String> POD_SPEC_KINDS = Set.of("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet",
      "Job", "ReplicationController");

  private final RegistryTarget target;
  private final String installNamespace;
  private final Map<String, BundleManifest.Image> byName = new LinkedHashMap<>();
  private final Map<String, BundleManifest.Image> byDigest = new LinkedHashMap<>();

  /**
   * @param installNamespace the installation's namespace, where components that name none are installed
   */
  public ChartRenderer(BundleManifest manifest, RegistryTarget target, String installNamespace) {
    this.target = target;
    this.installNamespace = installNamespace;
    for (BundleManifest.Image image : manifest.images()) {
      ImageReference ref = ImageReference.parse(image.ref());
      byName.put(key(ref), image);
      byDigest.put(image.digest(), image);
    }
  }

  /**
   * A component rendered for installation.
   *
   * @param chartDir the rendered chart, ready for {@code helm upgrade --install}
   * @param digest sha256 of the rewritten manifests and chart metadata: equal digests install the same objects
   * @param images each original image reference rendered → what the cluster will pull
   * @param objects {@code apiVersion/kind/namespace} of every object (for permission checks)
   * @param defaultStorageClaims the claims for storage that name no StorageClass, so need the cluster's default
   */
  public record Rendered(String component, String release, String namespace, Path chartDir, String chartName,
      String chartVersion, String digest, Map<String, String> images, List<ObjectRef> objects,
      List<String> defaultStorageClaims) {}

  /** An object a chart creates. */
  public record ObjectRef(String apiVersion, String kind, String namespace, String name) {}

  /** Where a component is installed: its own namespace, else the installation's. */
  public static String namespaceOf(BundleManifest.Component c, String installNamespace) {
    return c.namespace() == null || c.namespace().isBlank() ? installNamespace : c.namespace();
  }

  /**
   * Renders one component.
   *
   * @param chartTgz the chart archive from the bundle
   * @param values the bundle's values files for the component, in order
   * @param overrides the admin's values for this component (applied last), or null
   * @param missing collects images the manifests name that the bundle lacks, as {@code component: image}
   */
  public Rendered render(BundleManifest.Component component, Path chartTgz, List<Path> values,
      Map<String, Object> overrides, Path workDir, String kubeVersion, List<String> missing) {
    try {
      Path dir = Files.createDirectories(workDir.resolve(component.name()));
      Path airlockValues = dir.resolve("airlock-values.yaml");
      Map<String, Object> global = new LinkedHashMap<>();
      global.put("imageRegistry", target.toString());
      global.put("imagePullSecrets", List.of(Map.of("name", PULL_SECRET)));
      Files.writeString(airlockValues, yaml().dump(Map.of("global", global)));
      Path unpacked = ChartArchive.unpackRevealingHooks(chartTgz, Files.createDirectories(dir.resolve("src")));
      HelmRuntime.ensureLoaded();
      var template = Helm.template(unpacked.toString()).withName(component.releaseName())
          .withNamespace(namespaceOf(component, installNamespace)).skipCrds();
      if (kubeVersion != null) {
        template = template.withKubeVersion(kubeVersion);
      }
      for (Path v : values) {
        template = template.withValuesFile(v);
      }
      template = template.withValuesFile(airlockValues);
      if (overrides != null && !overrides.isEmpty()) {
        Path user = dir.resolve("overrides.yaml");
        Files.writeString(user, yaml().dump(overrides));
        template = template.withValuesFile(user);
      }
      String out;
      try {
        out = template.call();
      } catch (RuntimeException e) {
        throw new AirlockException(Kind.BAD_INPUT, "cannot render the chart of component " + component.name()
            + ": " + dev.airlock.bundle.Charts.helmMessage(e), "check the values in --values for '"
            + component.name() + "'", e);
      }
      String namespace = namespaceOf(component, installNamespace);
      Map<String, String> images = new LinkedHashMap<>();
      List<ObjectRef> objects = new ArrayList<>();
      List<String> claims = new ArrayList<>();
      StringBuilder manifests = new StringBuilder();
      for (Object doc : new Yaml(new SafeConstructor(new LoaderOptions())).loadAll(out == null ? "" : out)) {
        if (!(doc instanceof Map<?, ?> map) || map.isEmpty()) {
          continue;
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> object = (Map<String, Object>) map;
        restoreHooks(object);
        rewrite(object, component.name(), images, missing);
        Object meta = object.get("metadata");
        Object ns = meta instanceof Map<?, ?> m ? m.get("namespace") : null;
        Object name = meta instanceof Map<?, ?> m ? m.get("name") : null;
        objects.add(new ObjectRef(String.valueOf(object.get("apiVersion")), String.valueOf(object.get("kind")),
            ns == null ? namespace : String.valueOf(ns), name == null ? null : String.valueOf(name)));
        claims.addAll(defaultStorageClaims(object));
        manifests.append("---\n").append(yaml().dump(object));
      }
      Path chart = Files.createDirectories(dir.resolve("chart"));
      Map<String, Object> chartYaml = new LinkedHashMap<>();
      chartYaml.put("apiVersion", "v2");
      chartYaml.put("name", component.chart().name());
      chartYaml.put("version", component.chart().version());
      if (component.chart().appVersion() != null) {
        chartYaml.put("appVersion", component.chart().appVersion());
      }
      // No archive digest here: helm package stamps times into archives, and an unchanged chart must render the
      // same digest so that an upgrade leaves its release alone.
      chartYaml.put("description", "Rendered by airlock from chart " + component.chart().name() + " "
          + component.chart().version());
      String chartText = yaml().dump(chartYaml);
      Files.writeString(chart.resolve("Chart.yaml"), chartText);
      Files.createDirectories(chart.resolve("templates"));
      Files.writeString(chart.resolve("templates/manifests.yaml"), "{{ .Files.Get \"" + RENDERED_MANIFESTS
          + "\" }}\n");
      Files.createDirectories(chart.resolve("rendered"));
      Files.writeString(chart.resolve(RENDERED_MANIFESTS), manifests.toString());
      MessageDigest sha = Digest.sha256();
      sha.update(chartText.getBytes(StandardCharsets.UTF_8));
      sha.update(manifests.toString().getBytes(StandardCharsets.UTF_8));
      Map<String, byte[]> crds = ChartArchive.read(chartTgz, n -> n.matches("[^/]+/crds/[^/]+\\.(yaml|yml|json)"));
      if (!crds.isEmpty()) {
        Files.createDirectories(chart.resolve("crds"));
        for (Map.Entry<String, byte[]> crd : crds.entrySet()) {
          Files.write(chart.resolve("crds").resolve(crd.getKey().substring(crd.getKey().lastIndexOf('/') + 1)),
              crd.getValue());
          sha.update(crd.getValue());
        }
      }
      return new Rendered(component.name(), component.releaseName(), namespace, chart,
          component.chart().name(), component.chart().version(), Digest.of(sha).toString(), images, objects,
          claims);
    } catch (IOException e) {
      throw new AirlockException(Kind.IO, "cannot render component " + component.name() + " into " + workDir + ": "
          + e.getMessage(), null, e);
    }
  }

  /**
   * The storage an object claims without naming a StorageClass: a PersistentVolumeClaim, a StatefulSet's
   * {@code volumeClaimTemplates}, a pod template's generic ephemeral volumes.
   */
  @SuppressWarnings("unchecked")
  static List<String> defaultStorageClaims(Map<String, Object> object) {
    String kind = String.valueOf(object.get("kind"));
    Object name = path(object, "metadata", "name");
    List<String> out = new ArrayList<>();
    if (kind.equals("PersistentVolumeClaim") && path(object, "spec", "storageClassName") == null
        && path(object, "spec", "volumeName") == null) {
      out.add("PersistentVolumeClaim " + name);
    }
    if (kind.equals("StatefulSet") && path(object, "spec", "volumeClaimTemplates") instanceof List<?> templates) {
      for (Object t : templates) {
        if (t instanceof Map<?, ?> m && path((Map<String, Object>) m, "spec", "storageClassName") == null) {
          out.add("StatefulSet " + name + " (volumeClaimTemplates " + path((Map<String, Object>) m, "metadata",
              "name") + ")");
        }
      }
    }
    Object pod = kind.equals("Pod") ? object.get("spec") : kind.equals("CronJob")
        ? path(object, "spec", "jobTemplate", "spec", "template", "spec") : path(object, "spec", "template", "spec");
    if (pod instanceof Map<?, ?> spec && spec.get("volumes") instanceof List<?> volumes) {
      for (Object v : volumes) {
        if (v instanceof Map<?, ?> vol && path((Map<String, Object>) vol, "ephemeral", "volumeClaimTemplate",
            "spec") instanceof Map<?, ?> claim && claim.get("storageClassName") == null) {
          out.add(kind + " " + name + " (ephemeral volume " + vol.get("name") + ")");
        }
      }
    }
    return out;
  }

  /** Renames the masked hook annotations back (see {@link ChartArchive#unpackRevealingHooks}). */
  @SuppressWarnings("unchecked")
  private static void restoreHooks(Map<String, Object> object) {
    if (path(object, "metadata", "annotations") instanceof Map<?, ?> annotations) {
      Map<String, Object> restored = new LinkedHashMap<>();
      ((Map<String, Object>) annotations).forEach((k, v) -> restored.put(k.startsWith(ChartArchive.HOOK_MASK)
          ? ChartArchive.HOOK + k.substring(ChartArchive.HOOK_MASK.length()) : k, v));
      ((Map<String, Object>) object.get("metadata")).put("annotations", restored);
    }
  }

  /** Rewrites every image of the pod spec(s) in one object, and adds the pull Secret. */
  @SuppressWarnings("unchecked")
  private void rewrite(Map<String, Object> object, String component, Map<String, String> images,
      List<String> missing) {
    String kind = String.valueOf(object.get("kind"));
    Object podSpec = null;
    if (kind.equals("Pod")) {
      podSpec = object.get("spec");
    } else if (POD_SPEC_KINDS.contains(kind)) {
      podSpec = path(object, "spec", "template", "spec");
    } else if (kind.equals("CronJob")) {
      podSpec = path(object, "spec", "jobTemplate", "spec", "template", "spec");
    }
    if (!(podSpec instanceof Map<?, ?> spec)) {
      return;
    }
    Map<String, Object> pod = (Map<String, Object>) spec;
    for (String field : List.of("initContainers", "containers", "ephemeralContainers")) {
      if (!(pod.get(field) instanceof List<?> containers)) {
        continue;
      }
      for (Object c : containers) {
        if (c instanceof Map<?, ?> container && container.get("image") instanceof String image) {
          Map.Entry<String, String> rewritten = targetFor(image.strip());
          if (rewritten == null) {
            missing.add(component + ": " + image.strip());
          } else {
            ((Map<String, Object>) container).put("image", rewritten.getValue());
            images.put(rewritten.getKey(), rewritten.getValue());
          }
        }
      }
    }
    List<Object> secrets = pod.get("imagePullSecrets") instanceof List<?> l ? new ArrayList<>(l) : new ArrayList<>();
    if (secrets.stream().noneMatch(s -> s instanceof Map<?, ?> m && PULL_SECRET.equals(m.get("name")))) {
      secrets.add(new LinkedHashMap<>(Map.of("name", PULL_SECRET)));
      pod.put("imagePullSecrets", secrets);
    }
  }

  /**
   * The bundle's reference for {@code image} and where the cluster pulls it from, or null if the bundle lacks it. An
   * image the chart already points at the target (through {@code global.imageRegistry}) is looked up by its path
   * below the prefix.
   */
  Map.Entry<String, String> targetFor(String image) {
    ImageReference ref;
    try {
      ref = ImageReference.parse(image);
    } catch (AirlockException e) {
      return null;
    }
    BundleManifest.Image found = lookup(ref);
    String prefix = target.toString() + "/";
    if (found == null && image.startsWith(prefix)) {
      try {
        found = lookup(ImageReference.parse(image.substring(prefix.length())));
      } catch (AirlockException e) {
        return null;
      }
    }
    if (found == null) {
      return null;
    }
    ImageReference source = ImageReference.parse(found.ref());
    ImageReference pushed = new ImageReference(target.registry(), target.repositoryFor(source), source.tag(),
        Digest.parse(found.digest()));
    return Map.entry(found.ref(), pushed.toString());
  }

  private BundleManifest.Image lookup(ImageReference ref) {
    if (ref.digest() != null) {
      BundleManifest.Image byD = byDigest.get(ref.digest().toString());
      if (byD != null) {
        return byD;
      }
    }
    return ref.tag() == null ? null : byName.get(key(ref));
  }

  private static String key(ImageReference ref) {
    return ref.name() + ":" + ref.tag();
  }

  private static Object path(Map<String, Object> root, String... keys) {
    Object node = root;
    for (String k : keys) {
      if (!(node instanceof Map<?, ?> m)) {
        return null;
      }
      node = m.get(k);
    }
    return node;
  }

  static Yaml yaml() {
    DumperOptions options = new DumperOptions();
    options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
    options.setSplitLines(false);
    return new Yaml(new Representer(options), options);
  }

  /** Deduplicated list helper for messages. */
  static List<String> distinct(List<String> items) {
    return new ArrayList<>(new LinkedHashSet<>(items));
  }
}
