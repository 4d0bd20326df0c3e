package dev.airlock.bundle;

import dev.airlock.bundle.helm.HelmRuntime;
import com.marcnuri.helm.Helm;
import dev.airlock.bundle.spec.BundleSpec.ComponentSpec;
import dev.airlock.bundle.spec.ChartSource;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.oci.Digest;
import dev.airlock.oci.ImageReference;
import dev.airlock.oci.MediaTypes;
import dev.airlock.oci.RegistryClient;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/** Turns chart sources into packaged charts and finds the images a chart renders. */
public final class Charts {

  /** A packaged chart on local disk with what its Chart.yaml says. */
  record Packaged(Path tgz, String name, String version, String appVersion) {}

  private Charts() {}

  static Packaged prepare(ChartSource source, Path workDir, RegistryClient registry,
      java.util.function.Function<ImageReference, ImageReference> mirror) {
    try {
      Path tgz;
      if (source instanceof ChartSource.Directory d) {
        Path out = Files.createTempDirectory(workDir, "chart");
        try {
          HelmRuntime.ensureLoaded();
          new Helm(d.path()).packageIt().withDestination(out).call();
        } catch (RuntimeException e) {
          throw new AirlockException(Kind.BAD_INPUT, "cannot package chart " + d.path() + ": " + e.getMessage(),
              "run 'helm lint " + d.path() + "' to see what is wrong with the chart", e);
        }
        try (var files = Files.list(out)) {
          tgz = files.filter(p -> p.toString().endsWith(".tgz")).findFirst().orElseThrow(() -> new AirlockException(
              Kind.BAD_INPUT, "packaging chart " + d.path() + " produced no .tgz", null));
        }
      } else if (source instanceof ChartSource.Archive a) {
        tgz = Files.createTempFile(workDir, "chart", ".tgz");
        Files.copy(a.path(), tgz, StandardCopyOption.REPLACE_EXISTING);
      } else {
        ChartSource.Oci o = (ChartSource.Oci) source;
        ImageReference ref = mirror.apply(new ImageReference(o.registry(), o.repository(), o.version(), null));
        RegistryClient.Manifest m = registry.getManifest(ref.registry(), ref.repository(), o.version());
        JsonNode layer = null;
        for (JsonNode l : m.json().path("layers")) {
          if (MediaTypes.HELM_CHART_CONTENT.equals(l.path("mediaType").asText())) {
            layer = l;
          }
        }
        if (layer == null) {
          throw new AirlockException(Kind.BAD_INPUT, source + " is not a Helm chart (no layer of type "
              + MediaTypes.HELM_CHART_CONTENT + ")", "check the oci:// reference and version");
        }
        tgz = Files.createTempFile(workDir, "chart", ".tgz");
        registry.downloadBlob(ref.registry(), ref.repository(), Digest.parse(layer.path("digest").asText()),
            layer.path("size").asLong(-1), tgz, n -> {});
      }
      Map<String, Object> chartYaml = readChartYaml(tgz, source.toString());
      String name = String.valueOf(chartYaml.get("name"));
      String version = String.valueOf(chartYaml.get("version"));
      Object app = chartYaml.get("appVersion");
      return new Packaged(tgz, name, version, app == null ? null : String.valueOf(app));
    } catch (IOException e) {
      throw new AirlockException(Kind.IO, "cannot prepare chart " + source + ": " + e.getMessage(), null, e);
    }
  }

  /** Reads {@code <name>/Chart.yaml} out of a chart archive. */
  @SuppressWarnings("unchecked")
  static Map<String, Object> readChartYaml(Path tgz, String source) throws IOException {
    try {
      for (byte[] content : ChartArchive.read(tgz, n -> n.matches("[^/]+/Chart\\.yaml")).values()) {
        Object y = new Yaml(new SafeConstructor(new LoaderOptions())).load(new String(content,
            StandardCharsets.UTF_8));
        if (y instanceof Map<?, ?> m && m.get("name") != null && m.get("version") != null) {
          return (Map<String, Object>) m;
        }
      }
    } catch (IOException | RuntimeException e) {
      throw new AirlockException(Kind.BAD_INPUT, "chart " + source + " is not a valid chart archive: "
          + e.getMessage(), null, e);
    }
    throw new AirlockException(Kind.BAD_INPUT, "chart " + source + " has no Chart.yaml with name and version", null);
  }

  /** Renders the chart with the component's values and returns every container image it names. */
  static List<ImageReference> renderImages(Packaged chart, ComponentSpec component) {
    return renderImages(chart, component, new ArrayList<>());
  }

  /** As above; {@code warnings} receives containers rendered with an empty image (a missing value, usually). */
  static List<ImageReference> renderImages(Packaged chart, ComponentSpec component, List<String> warnings) {
    String rendered;
    try {
      Path unpacked = ChartArchive.unpackRevealingHooks(chart.tgz(), Files.createTempDirectory(
          chart.tgz().getParent(), "render"));
      HelmRuntime.ensureLoaded();
      var template = Helm.template(unpacked.toString()).withName(component.releaseName())
          .withNamespace(component.namespace() == null ? "airlock-system" : component.namespace());
      for (Path v : component.values()) {
        template = template.withValuesFile(v);
      }
      rendered = template.call();
    } catch (IOException e) {
      throw new AirlockException(Kind.BAD_INPUT, "cannot unpack chart " + chart.name() + " of component "
          + component.name() + ": " + e.getMessage(), null, e);
    } catch (RuntimeException e) {
      throw new AirlockException(Kind.BAD_INPUT, "cannot render chart " + chart.name() + " of component "
          + component.name() + ": " + helmMessage(e), "check the chart and its values files with 'helm template "
          + "--debug' (Helm's own CLI)", e);
    }
    // helm-java answers null, not "", for a chart that renders nothing (e.g. no templates).
    return imagesIn(rendered == null ? "" : rendered, "component " + component.name(), warnings);
  }

  /**
   * Helm's error message without its advice for Helm's own CLI ("Use --debug flag to render out invalid YAML"):
   * airlock has no such flag, so the advice would mislead.
   */
  public static String helmMessage(Throwable e) {
    String m = String.valueOf(e.getMessage());
    return m.replaceAll("(?i)[.;:,]?\\s*Use --debug flag to render out invalid YAML\\.?", "").strip();
  }

  /** Every image of every container, initContainer and ephemeralContainer in a multi-document manifest. */
  static List<ImageReference> imagesIn(String manifests, String where) {
    return imagesIn(manifests, where, new ArrayList<>());
  }

  static List<ImageReference> imagesIn(String manifests, String where, List<String> warnings) {
    Set<String> found = new LinkedHashSet<>();
    for (Object doc : new Yaml(new SafeConstructor(new LoaderOptions())).loadAll(manifests)) {
      List<String> empty = new ArrayList<>();
      collect(doc, found, empty);
      if (!empty.isEmpty() && doc instanceof Map<?, ?> m) {
        Object meta = m.get("metadata");
        String name = meta instanceof Map<?, ?> mm ? String.valueOf(mm.get("name")) : "?";
        warnings.add(where + " renders " + m.get("kind") + " " + name + " with an empty image in container(s) "
            + String.join(", ", empty) + " (a value the chart expects is missing?); nothing is bundled for it");
      }
    }
    List<ImageReference> out = new ArrayList<>();
    for (String image : found) {
      try {
        out.add(ImageReference.parse(image));
      } catch (AirlockException e) {
        throw new AirlockException(Kind.BAD_INPUT, where + " renders an invalid image: " + e.getMessage(),
            e.fix().orElse(null));
      }
    }
    return out;
  }

  private static void collect(Object node, Set<String> out, List<String> empty) {
    if (node instanceof Map<?, ?> map) {
      for (Map.Entry<?, ?> e : map.entrySet()) {
        String key = String.valueOf(e.getKey());
        if ((key.equals("containers") || key.equals("initContainers") || key.equals("ephemeralContainers"))
            && e.getValue() instanceof List<?> list) {
          for (Object c : list) {
            if (c instanceof Map<?, ?> container) {
              Object image = container.get("image");
              if (image instanceof String s && !s.isBlank()) {
                out.add(s.strip());
              } else {
                empty.add(String.valueOf(container.get("name")));
              }
            }
          }
        } else {
          collect(e.getValue(), out, empty);
        }
      }
    } else if (node instanceof List<?> list) {
      list.forEach(x -> collect(x, out, empty));
    }
  }
}
