package dev.airlock.bundle;

import com.fasterxml.jackson.databind.JsonNode;
import dev.airlock.bundle.format.Json;
import dev.airlock.bundle.sbom.CatalogueLimits;
import dev.airlock.bundle.sbom.CycloneDx;
import dev.airlock.bundle.sbom.ImageCatalogue;
import dev.airlock.bundle.sbom.LayerFindings;
import dev.airlock.bundle.sbom.LayerScanner;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.event.Event;
import dev.airlock.event.EventHandler;
import dev.airlock.oci.Digest;
import dev.airlock.oci.MediaTypes;
import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The SBOM step of a build: as soon as a layer is complete in the file, it is read back out of it once (streaming,
 * within {@link CatalogueLimits}, in parallel with the downloads still running), and once every blob is in, each
 * image's SBOM is made from its layers' findings. Reading back covers every way a blob got there — downloaded,
 * resumed, from the cache, built locally — alike.
 */
final class SbomStage {

  static final String PHASE = "sbom";

  /** One image whose SBOM goes into {@code entry}. */
  record Target(String entry, String ref, Digest digest, List<PlatformLayers> platforms) {
    Target {
      platforms = List.copyOf(platforms);
    }
  }

  /** One platform of an image and its layers, bottom first. */
  record PlatformLayers(String platform, List<Layer> layers) {
    PlatformLayers {
      layers = List.copyOf(layers);
    }
  }

  record Layer(Digest digest, long size, String mediaType) {}

  /** The platforms and layers of an image, from its manifests (children of an index that were kept). */
  static List<PlatformLayers> platformsOf(Digest image, List<String> platforms, Map<Digest, byte[]> manifests)
      throws IOException {
    JsonNode top = Json.MAPPER.readTree(manifests.get(image));
    List<PlatformLayers> out = new ArrayList<>();
    if (top.has("manifests")) {
      for (JsonNode child : top.path("manifests")) {
        JsonNode p = child.path("platform");
        if ("unknown".equals(p.path("os").asText())) {
          continue; // buildkit's attestation manifests: not a file system
        }
        byte[] bytes = manifests.get(Digest.parse(child.path("digest").asText()));
        String type = child.path("mediaType").asText();
        if (bytes == null || !type.isEmpty() && !MediaTypes.isManifest(type)) {
          continue;
        }
        String platform = p.isMissingNode() ? "" : p.path("os").asText() + "/" + p.path("architecture").asText()
            + (p.hasNonNull("variant") ? "/" + p.get("variant").asText() : "");
        out.add(new PlatformLayers(platform, layers(Json.MAPPER.readTree(bytes))));
      }
    } else {
      out.add(new PlatformLayers(platforms.isEmpty() ? "" : platforms.get(0), layers(top)));
    }
    return out;
  }

  private static List<Layer> layers(JsonNode manifest) {
    List<Layer> out = new ArrayList<>();
    for (JsonNode d : manifest.path("layers")) {
      if (!d.has("urls") && Digest.isDigest(d.path("digest").asText())) {
        out.add(new Layer(Digest.parse(d.path("digest").asText()), d.path("size").asLong(-1),
            d.path("mediaType").asText()));
      }
    }
    return out;
  }

  private final BundleWriter writer;
  private final List<Target> targets;
  private final CatalogueLimits limits;
  private final EventHandler events;
  private final Map<Digest, Layer> distinct = new LinkedHashMap<>();
  private final Map<Digest, Future<LayerFindings>> started = new java.util.concurrent.ConcurrentHashMap<>();
  private final ExecutorService pool;

  /**
   * Starts the step; {@link #inPlace} is told of each blob as it lands in the file, so layers are catalogued while
   * the rest still download, and {@link #finish} catalogues what is left and makes the SBOMs.
   */
  SbomStage(BundleWriter writer, List<Target> targets, int parallelism, CatalogueLimits limits, EventHandler events) {
    this.writer = writer;
    this.targets = List.copyOf(targets);
    this.limits = limits;
    this.events = events;
    for (Target t : targets) {
      for (PlatformLayers p : t.platforms()) {
        p.layers().forEach(l -> distinct.putIfAbsent(l.digest(), l));
      }
    }
    this.pool = Executors.newFixedThreadPool(parallelism, r -> {
      Thread t = new Thread(r, "airlock-sbom");
      t.setDaemon(true);
      return t;
    });
  }

  /** A blob is complete in the file: if it is a layer of an image, catalogue it now. */
  void inPlace(Digest blob) {
    Layer l = distinct.get(blob);
    if (l != null) {
      started.computeIfAbsent(blob, d -> pool.submit(() -> catalogue(writer, l, limits)));
    }
  }

  /** Catalogues the layers not yet started, waits for all, and returns each target's SBOM by entry name. */
  Map<String, byte[]> finish(Instant created, String builderVersion) {
    int early = started.size();
    events.on(new Event.PhaseStarted(PHASE, "cataloguing " + distinct.size() + " layers of " + targets.size()
        + " images (" + early + " were catalogued while the download ran)", -1));
    Map<Digest, LayerFindings> findings = new LinkedHashMap<>();
    try {
      for (Layer l : distinct.values()) {
        started.computeIfAbsent(l.digest(), d -> pool.submit(() -> catalogue(writer, l, limits)));
      }
      for (Layer l : distinct.values()) {
        findings.put(l.digest(), started.get(l.digest()).get());
      }
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RuntimeException r) {
        throw r;
      }
      throw new AirlockException(Kind.IO, "cannot read a layer back for its SBOM: " + cause.getMessage(),
          "check the disk holding " + writer.partial().getParent(), cause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      dev.airlock.io.Cancellation.check("cataloguing layers in " + writer.partial().getFileName());
      throw new AirlockException(Kind.IO, "interrupted while cataloguing layers", null, e);
    } finally {
      close();
    }
    Map<String, byte[]> out = new LinkedHashMap<>();
    int packages = 0;
    int notes = 0;
    for (Target t : targets) {
      if (out.containsKey(t.entry())) {
        continue; // the same image under two references: one SBOM
      }
      List<ImageCatalogue.PlatformPackages> merged = new ArrayList<>();
      for (PlatformLayers p : t.platforms()) {
        merged.add(ImageCatalogue.merge(p.platform(), p.layers().stream().map(l -> findings.get(l.digest()))
            .toList()));
      }
      for (ImageCatalogue.PlatformPackages m : merged) {
        packages += m.packages().size();
        notes += m.notes().size();
        m.notes().forEach(n -> events.warn("SBOM of image " + t.ref() + ": " + n));
      }
      out.put(t.entry(), CycloneDx.write(t.ref(), t.digest().toString(), created, builderVersion, merged));
    }
    long bytes = findings.values().stream().mapToLong(LayerFindings::bytes).sum();
    events.on(new Event.PhaseFinished(PHASE, out.size() + " SBOMs, " + packages + " packages from "
        + distinct.size() + " layers (" + bytes + " bytes unpacked)" + (notes > 0 ? ", " + notes + " notes" : "")));
    return out;
  }

  /** Stops cataloguing (a failed build). */
  void close() {
    pool.shutdownNow();
  }

  private static LayerFindings catalogue(BundleWriter writer, Layer l, CatalogueLimits limits) throws IOException {
    if (!writer.hasBlob(l.digest())) {
      return LayerFindings.unread("layer " + l.digest() + " is left out of this delta bundle (its base has it); "
          + "its packages are not listed");
    }
    String type = l.mediaType();
    if (!type.isEmpty() && !type.contains("tar") && !type.contains("rootfs")) {
      return LayerFindings.unread("layer " + l.digest() + " has media type " + type
          + ", not a file system; not catalogued");
    }
    try (InputStream in = writer.openBlob(l.digest())) {
      return LayerScanner.scan(in, l.size(), l.digest().toString(), limits);
    }
  }
}
