package dev.airlock.bundle;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.airlock.bundle.event.Event;
import dev.airlock.bundle.event.EventHandler;
import dev.airlock.bundle.format.BundleLayout;
import dev.airlock.bundle.format.BundleManifest;
import dev.airlock.bundle.format.BundleSignature;
import dev.airlock.bundle.format.Checksums;
import dev.airlock.bundle.format.Json;
import dev.airlock.bundle.format.TarWriter;
import dev.airlock.bundle.spec.BundleSpec;
import dev.airlock.bundle.spec.BundleSpec.ComponentSpec;
import dev.airlock.bundle.spec.Mirror;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.keys.SigningKey;
import dev.airlock.oci.Digest;
import dev.airlock.oci.ImageReference;
import dev.airlock.oci.MediaTypes;
import dev.airlock.oci.Platform;
import dev.airlock.oci.RegistryClient;
import dev.airlock.oci.RegistryOptions;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Builds one signed bundle file from a spec:
 * {@code Bundler.from(spec).signWith(key).registries(opts).build(output)}. Phases: charts, images, blobs, write.
 * Blobs go through a content-addressed cache so a re-run after a failure downloads only what is missing; the output
 * appears under its name only when complete.
 */
public final class Bundler {

  public static final String PHASE_CHARTS = "charts";
  public static final String PHASE_RESOLVE = "resolve";
  public static final String PHASE_DOWNLOAD = "download";
  public static final String PHASE_WRITE = "write";

  private final BundleSpec spec;
  private RegistryOptions registryOptions = RegistryOptions.defaults();
  private List<Platform> platforms;
  private int parallelism = 4;
  private Path cacheDir = defaultCacheDir();
  private SigningKey signingKey;
  private Clock clock = Clock.systemUTC();
  private String builderVersion = "dev";
  private final List<EventHandler> handlers = new ArrayList<>();

  private Bundler(BundleSpec spec) {
    this.spec = spec;
    this.platforms = spec.platforms();
  }

  public static Bundler from(BundleSpec spec) {
    return new Bundler(spec);
  }

  public Bundler registries(RegistryOptions options) {
    this.registryOptions = options;
    return this;
  }

  /** Keep only these platforms of multi-arch images; empty keeps every platform. */
  public Bundler platforms(List<Platform> list) {
    this.platforms = List.copyOf(list);
    return this;
  }

  public Bundler parallelism(int n) {
    if (n < 1 || n > 64) {
      throw new AirlockException(Kind.BAD_INPUT, "parallelism must be between 1 and 64, not " + n, null);
    }
    this.parallelism = n;
    return this;
  }

  public Bundler cacheDir(Path dir) {
    this.cacheDir = dir;
    return this;
  }

  public Bundler signWith(SigningKey key) {
    this.signingKey = key;
    return this;
  }

  public Bundler clock(Clock c) {
    this.clock = c;
    return this;
  }

  public Bundler builderVersion(String v) {
    this.builderVersion = v;
    return this;
  }

  public Bundler addEventHandler(EventHandler h) {
    handlers.add(h);
    return this;
  }

  /**
   * What was built.
   *
   * @param output the bundle file
   * @param manifest its manifest document
   * @param size bytes of the file
   * @param blobsDownloaded blobs fetched from registries in this run
   * @param bytesDownloaded their bytes
   * @param blobsFromCache blobs found in the cache
   */
  public record Result(Path output, BundleManifest manifest, long size, int blobsDownloaded, long bytesDownloaded,
      int blobsFromCache) {}

  /** A blob to store, with where to fetch it from. */
  private record BlobRef(Digest digest, long size, ImageReference source) {}

  /** An image resolved to its manifests and blobs. */
  private record ResolvedImage(ImageReference ref, Digest digest, String mediaType, long size, List<String> platforms,
      List<Digest> blobs, long topSize) {
    ResolvedImage withPlatforms(List<String> p) {
      return new ResolvedImage(ref, digest, mediaType, size, p, blobs, topSize);
    }

    long blobSizeOfTop() {
      return topSize;
    }
  }

  public Result build(Path output) {
    Objects.requireNonNull(signingKey, "signWith(..) is required");
    EventHandler events = e -> handlers.forEach(h -> h.on(e));
    Path target = output.toAbsolutePath();
    Path dir = target.getParent();
    Instant created = clock.instant().truncatedTo(ChronoUnit.SECONDS);
    // Refuse early, before any download, if the signature could not be made.
    signingKey.sign(new byte[0], created);
    RegistryClient registry = new RegistryClient(registryOptions);
    Path blobDir = cacheDir.resolve("blobs").resolve("sha256");
    Path work;
    try {
      Files.createDirectories(dir);
      Files.createDirectories(blobDir);
      Files.createDirectories(cacheDir.resolve("tmp"));
      work = Files.createTempDirectory(cacheDir.resolve("tmp"), "build");
      removeStalePartials(target, events);
    } catch (IOException e) {
      throw new AirlockException(Kind.IO, "cannot prepare " + cacheDir + " or " + dir + ": " + e.getMessage(),
          "choose a writable --cache-dir and output directory", e);
    }
    try {
      // 1. charts
      events.on(new Event.PhaseStarted(PHASE_CHARTS, "packaging and rendering " + spec.components().size()
          + " charts", -1));
      Map<String, Charts.Packaged> charts = new LinkedHashMap<>();
      Map<String, List<ImageReference>> componentImages = new LinkedHashMap<>();
      Set<ImageReference> allImages = new LinkedHashSet<>(spec.images());
      for (ComponentSpec c : spec.components()) {
        Charts.Packaged chart = Charts.prepare(c.chart(), work, registry, this::mirrored);
        charts.put(c.name(), chart);
        List<ImageReference> imgs = new ArrayList<>(Charts.renderImages(chart, c));
        for (ImageReference extra : c.images()) {
          if (!imgs.contains(extra)) {
            imgs.add(extra);
          }
        }
        componentImages.put(c.name(), imgs);
        allImages.addAll(imgs);
        events.info("component " + c.name() + ": chart " + chart.name() + " " + chart.version() + ", "
            + imgs.size() + " images");
      }
      events.on(new Event.PhaseFinished(PHASE_CHARTS, charts.size() + " charts"));

      // 2. resolve manifests
      events.on(new Event.PhaseStarted(PHASE_RESOLVE, "resolving " + allImages.size() + " images", -1));
      Map<Digest, byte[]> manifests = new LinkedHashMap<>();
      Map<Digest, BlobRef> blobs = new LinkedHashMap<>();
      List<ResolvedImage> images = new ArrayList<>();
      for (ImageReference ref : allImages) {
        ResolvedImage img = resolve(registry, ref, manifests, blobs, events);
        images.add(img);
        events.info("image " + ref + " -> " + img.digest());
      }
      events.on(new Event.PhaseFinished(PHASE_RESOLVE, images.size() + " images, " + blobs.size() + " blobs"));

      // 3. blobs into the cache
      long[] fetched = fetchBlobs(registry, blobs, blobDir, events);

      // platforms of single-manifest images come from their config
      List<ResolvedImage> withPlatforms = new ArrayList<>();
      for (ResolvedImage img : images) {
        withPlatforms.add(img.platforms().isEmpty() ? img.withPlatforms(configPlatform(img, manifests, blobDir))
            : img);
      }

      // 4. write
      Path partial = dir.resolve("." + target.getFileName() + "." + UUID.randomUUID() + ".partial");
      try {
        BundleManifest manifest = write(partial, created, charts, componentImages, withPlatforms, manifests, blobs,
            blobDir, events);
        try (FileChannel ch = FileChannel.open(partial, StandardOpenOption.WRITE)) {
          ch.force(true);
        }
        Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        return new Result(target, manifest, Files.size(target), (int) fetched[0], fetched[1], (int) fetched[2]);
      } catch (IOException e) {
        throw new AirlockException(Kind.IO, "cannot write " + target + ": " + e.getMessage(),
            "check free disk space in " + dir, e);
      } finally {
        try {
          Files.deleteIfExists(partial);
        } catch (IOException ignored) {
          // best effort: a leftover .partial is removed by the next build
        }
      }
    } finally {
      deleteTree(work);
    }
  }

  private ImageReference mirrored(ImageReference ref) {
    for (Mirror m : spec.mirrors()) {
      if (m.appliesTo(ref)) {
        return m.apply(ref);
      }
    }
    return ref;
  }

  private ResolvedImage resolve(RegistryClient registry, ImageReference ref, Map<Digest, byte[]> manifests,
      Map<Digest, BlobRef> blobs, EventHandler events) {
    ImageReference from = mirrored(ref);
    RegistryClient.Manifest top;
    try {
      top = registry.getManifest(from.registry(), from.repository(), from.reference());
    } catch (AirlockException e) {
      throw new AirlockException(e.kind(), "image " + ref + (from.equals(ref) ? "" : " (through mirror " + from.name()
          + ")") + ": " + e.getMessage(), e.fix().orElse(null), e);
    }
    List<Digest> imageBlobs = new ArrayList<>();
    List<String> plats = new ArrayList<>();
    long size;
    byte[] topBytes = top.bytes();
    Digest topDigest = top.digest();
    if (MediaTypes.isIndex(top.mediaType())) {
      JsonNode index = top.json();
      ArrayNode kept = Json.MAPPER.createArrayNode();
      size = 0;
      for (JsonNode child : index.path("manifests")) {
        JsonNode p = child.path("platform");
        Platform platform = p.isMissingNode() ? null : new Platform(p.path("os").asText(),
            p.path("architecture").asText(), p.hasNonNull("variant") ? p.get("variant").asText() : null);
        boolean attestation = "unknown".equals(p.path("os").asText());
        if (!platforms.isEmpty() && (platform == null || platforms.stream().noneMatch(f -> f.matches(platform)))) {
          continue;
        }
        kept.add(child);
        Digest childDigest = Digest.parse(child.path("digest").asText());
        RegistryClient.Manifest m = registry.getManifest(from.registry(), from.repository(), childDigest.toString());
        manifests.put(childDigest, m.bytes());
        imageBlobs.add(childDigest);
        size += m.bytes().length + addManifestBlobs(m, from, blobs, imageBlobs, ref, events);
        if (platform != null && !attestation) {
          plats.add(platform.toString());
        }
      }
      if (kept.isEmpty()) {
        throw new AirlockException(Kind.BAD_INPUT, "image " + ref + " has no manifest for the platforms "
            + platforms, "choose --platform values the image provides, or leave --platform out");
      }
      if (kept.size() != index.path("manifests").size()) {
        ObjectNode filtered = index.deepCopy();
        filtered.set("manifests", kept);
        try {
          topBytes = Json.MAPPER.writeValueAsBytes(filtered);
        } catch (IOException e) {
          throw new IllegalStateException(e);
        }
        topDigest = Digest.of(topBytes);
        events.info("image " + ref + ": kept " + kept.size() + " of " + index.path("manifests").size()
            + " platforms");
      }
    } else {
      size = addManifestBlobs(top, from, blobs, imageBlobs, ref, events);
    }
    manifests.put(topDigest, topBytes);
    imageBlobs.add(0, topDigest);
    size += topBytes.length;
    return new ResolvedImage(ref, topDigest, top.mediaType(), size, plats, imageBlobs, topBytes.length);
  }

  private long addManifestBlobs(RegistryClient.Manifest m, ImageReference from, Map<Digest, BlobRef> blobs,
      List<Digest> imageBlobs, ImageReference ref, EventHandler events) {
    JsonNode json = m.json();
    if (!MediaTypes.isManifest(m.mediaType()) && !json.has("layers")) {
      throw new AirlockException(Kind.BAD_INPUT, "image " + ref + " has a manifest of unsupported type "
          + m.mediaType(), null);
    }
    long size = 0;
    List<JsonNode> descriptors = new ArrayList<>();
    descriptors.add(json.path("config"));
    json.path("layers").forEach(descriptors::add);
    for (JsonNode d : descriptors) {
      if (d.has("urls")) {
        events.warn("image " + ref + ": foreign layer " + d.path("digest").asText() + " is not redistributable and "
            + "was left out");
        continue;
      }
      Digest digest = Digest.parse(d.path("digest").asText());
      long s = d.path("size").asLong(-1);
      blobs.putIfAbsent(digest, new BlobRef(digest, s, from));
      imageBlobs.add(digest);
      size += Math.max(s, 0);
    }
    return size;
  }

  /** Downloads missing blobs in parallel; returns {downloaded count, bytes, cached count}. */
  private long[] fetchBlobs(RegistryClient registry, Map<Digest, BlobRef> blobs, Path blobDir, EventHandler events) {
    List<BlobRef> missing = new ArrayList<>();
    long total = 0;
    int cached = 0;
    for (BlobRef b : blobs.values()) {
      Path p = blobDir.resolve(b.digest().hex());
      if (Files.isRegularFile(p) && sizeOf(p) == b.size()) {
        cached++;
      } else {
        missing.add(b);
        total += Math.max(b.size(), 0);
      }
    }
    // Largest first keeps every worker busy until the end.
    missing.sort(Comparator.comparingLong(BlobRef::size).reversed());
    events.on(new Event.PhaseStarted(PHASE_DOWNLOAD, "downloading " + missing.size() + " blobs (" + cached
        + " already cached)", total));
    AtomicLong bytes = new AtomicLong();
    AtomicInteger done = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(parallelism, r -> {
      Thread t = new Thread(r, "airlock-download");
      t.setDaemon(true);
      return t;
    });
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (BlobRef b : missing) {
        futures.add(pool.submit(() -> {
          Path tmp = blobDir.resolveSibling("..").normalize().resolve("tmp")
              .resolve(b.digest().hex() + "." + UUID.randomUUID());
          try {
            registry.downloadBlob(b.source().registry(), b.source().repository(), b.digest(), b.size(), tmp, n -> {
              bytes.addAndGet(n);
              events.on(new Event.Progress(PHASE_DOWNLOAD, n));
            });
            Files.move(tmp, blobDir.resolve(b.digest().hex()), StandardCopyOption.ATOMIC_MOVE,
                StandardCopyOption.REPLACE_EXISTING);
            done.incrementAndGet();
          } catch (IOException e) {
            throw new AirlockException(Kind.IO, "cannot store blob " + b.digest() + " in " + blobDir + ": "
                + e.getMessage(), "check free disk space in the cache directory", e);
          } finally {
            try {
              Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
              // leftover temp files are harmless
            }
          }
          return null;
        }));
      }
      for (Future<?> f : futures) {
        try {
          f.get();
        } catch (ExecutionException e) {
          pool.shutdownNow();
          Throwable cause = e.getCause();
          if (cause instanceof RuntimeException r) {
            throw r;
          }
          throw new AirlockException(Kind.REMOTE, "download failed: " + cause.getMessage(), null, cause);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AirlockException(Kind.REMOTE, "interrupted while downloading", null, e);
    } finally {
      pool.shutdownNow();
    }
    events.on(new Event.PhaseFinished(PHASE_DOWNLOAD, done.get() + " blobs downloaded (" + bytes.get()
        + " bytes), " + cached + " from cache"));
    return new long[] {done.get(), bytes.get(), cached};
  }

  private List<String> configPlatform(ResolvedImage img, Map<Digest, byte[]> manifests, Path blobDir) {
    try {
      JsonNode m = Json.MAPPER.readTree(manifests.get(img.digest()));
      Digest config = Digest.parse(m.path("config").path("digest").asText());
      Path p = blobDir.resolve(config.hex());
      if (Files.size(p) > 1 << 22) {
        return List.of();
      }
      JsonNode c = Json.MAPPER.readTree(p.toFile());
      if (c.hasNonNull("os") && c.hasNonNull("architecture")) {
        return List.of(c.get("os").asText() + "/" + c.get("architecture").asText()
            + (c.hasNonNull("variant") ? "/" + c.get("variant").asText() : ""));
      }
    } catch (IOException | RuntimeException e) {
      // A config that is not an image config (e.g. an artifact) has no platform.
    }
    return List.of();
  }

  private BundleManifest write(Path partial, Instant created, Map<String, Charts.Packaged> charts,
      Map<String, List<ImageReference>> componentImages, List<ResolvedImage> images, Map<Digest, byte[]> manifests,
      Map<Digest, BlobRef> blobs, Path blobDir, EventHandler events) throws IOException {
    // Non-blob entries, in archive order after the head.
    Map<String, byte[]> smallEntries = new LinkedHashMap<>();
    Map<String, Path> fileEntries = new LinkedHashMap<>();
    smallEntries.put(BundleLayout.OCI_LAYOUT, BundleLayout.OCI_LAYOUT_CONTENT.getBytes());
    List<BundleManifest.Component> components = new ArrayList<>();
    for (ComponentSpec c : spec.components()) {
      Charts.Packaged chart = charts.get(c.name());
      String chartPath = BundleLayout.CHARTS_PREFIX + c.name() + "/" + chart.name() + "-" + chart.version() + ".tgz";
      fileEntries.put(chartPath, chart.tgz());
      List<String> values = new ArrayList<>();
      for (int i = 0; i < c.values().size(); i++) {
        Path v = c.values().get(i);
        String name = BundleLayout.VALUES_PREFIX + c.name() + "/" + i + "-" + v.getFileName();
        fileEntries.put(name, v);
        values.add(name);
      }
      components.add(new BundleManifest.Component(c.name(), c.required(), c.namespace(), c.releaseName(),
          c.dependsOn(), new BundleManifest.Chart(chart.name(), chart.version(), chart.appVersion(), chartPath,
              digestOf(chart.tgz()).toString(), Files.size(chart.tgz()), c.chart().toString()),
          values, componentImages.get(c.name()).stream().map(ImageReference::toString).toList()));
    }
    // OCI-typed copies of Docker schema-2 manifests, for index.json (see OciConversion).
    Map<Digest, OciConversion.Converted> layout = new LinkedHashMap<>();
    for (ResolvedImage img : images) {
      if (OciConversion.needed(img.mediaType())) {
        OciConversion.Converted c = OciConversion.convert(img.digest(), manifests);
        layout.put(img.digest(), c);
        manifests.putAll(c.manifests());
      }
    }
    smallEntries.put(BundleLayout.OCI_INDEX, ociIndex(images, layout));
    // Every blob once: manifests (from memory) and layers/configs (from the cache).
    Map<Digest, Long> blobSizes = new LinkedHashMap<>();
    for (ResolvedImage img : images) {
      List<Digest> all = new ArrayList<>(img.blobs());
      if (layout.containsKey(img.digest())) {
        all.addAll(layout.get(img.digest()).manifests().keySet());
      }
      for (Digest d : all) {
        if (!blobSizes.containsKey(d)) {
          byte[] m = manifests.get(d);
          blobSizes.put(d, m != null ? m.length : blobs.get(d).size());
        }
      }
    }
    long imageBytes = images.stream().mapToLong(ResolvedImage::size).sum();
    long uniqueBytes = blobSizes.values().stream().mapToLong(Long::longValue).sum();
    List<BundleManifest.Image> imageDocs = new ArrayList<>();
    for (ResolvedImage i : images) {
      OciConversion.Converted c = layout.get(i.digest());
      imageDocs.add(new BundleManifest.Image(i.ref().toString(), i.digest().toString(), i.mediaType(),
          i.platforms(), i.size(), i.blobs().stream().distinct().map(Digest::toString).toList(),
          c == null ? null : c.digest().toString(),
          c == null ? null : c.manifests().keySet().stream().map(Digest::toString).toList()));
    }
    BundleManifest manifest = new BundleManifest(BundleManifest.API_VERSION, BundleManifest.KIND, spec.name(),
        spec.version().toString(), spec.description(), spec.upgradesFrom().map(Object::toString).orElse(null),
        spec.kubernetes().map(Object::toString).orElse(null),
        new BundleManifest.Requirements(spec.requirements().cpu().orElse(null),
            spec.requirements().memory().orElse(null)),
        created, new BundleManifest.Builder("airlock", builderVersion), components, imageDocs,
        new BundleManifest.Totals(imageBytes, uniqueBytes, blobSizes.size()));
    byte[] manifestBytes = manifest.toBytes();

    Map<String, Digest> sums = new LinkedHashMap<>();
    sums.put(BundleLayout.MANIFEST, Digest.of(manifestBytes));
    smallEntries.forEach((name, bytes) -> sums.put(name, Digest.of(bytes)));
    for (Map.Entry<String, Path> e : fileEntries.entrySet()) {
      sums.put(e.getKey(), digestOf(e.getValue()));
    }
    blobSizes.keySet().forEach(d -> sums.put(BundleLayout.blobPath(d), d));
    Checksums checksums = new Checksums(sums);
    byte[] checksumBytes = checksums.toBytes();
    byte[] signature = BundleSignature.sign(signingKey, Digest.of(manifestBytes), Digest.of(checksumBytes), created)
        .toBytes();

    long total = uniqueBytes;
    events.on(new Event.PhaseStarted(PHASE_WRITE, "writing " + partial.getFileName(), total));
    try (FileChannel ch = FileChannel.open(partial, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        TarWriter tar = new TarWriter(ch, created.getEpochSecond())) {
      tar.add(BundleLayout.MANIFEST, manifestBytes);
      tar.add(BundleLayout.CHECKSUMS, checksumBytes);
      tar.add(BundleLayout.SIGNATURE, signature);
      for (Map.Entry<String, byte[]> e : smallEntries.entrySet()) {
        tar.add(e.getKey(), e.getValue());
      }
      for (Map.Entry<String, Path> e : fileEntries.entrySet()) {
        tar.add(e.getKey(), e.getValue(), Files.size(e.getValue()));
      }
      for (Map.Entry<Digest, Long> b : blobSizes.entrySet()) {
        byte[] m = manifests.get(b.getKey());
        if (m != null) {
          tar.add(BundleLayout.blobPath(b.getKey()), m);
        } else {
          tar.add(BundleLayout.blobPath(b.getKey()), blobDir.resolve(b.getKey().hex()), b.getValue());
        }
        events.on(new Event.Progress(PHASE_WRITE, b.getValue()));
      }
    }
    events.on(new Event.PhaseFinished(PHASE_WRITE, blobSizes.size() + " blobs, " + uniqueBytes + " bytes"));
    return manifest;
  }

  private static byte[] ociIndex(List<ResolvedImage> images, Map<Digest, OciConversion.Converted> layout) {
    ObjectNode index = Json.MAPPER.createObjectNode();
    index.put("schemaVersion", 2);
    index.put("mediaType", MediaTypes.OCI_INDEX);
    ArrayNode list = index.putArray("manifests");
    for (ResolvedImage img : images) {
      ObjectNode d = list.addObject();
      OciConversion.Converted c = layout.get(img.digest());
      d.put("mediaType", c != null ? c.mediaType() : img.mediaType());
      d.put("digest", (c != null ? c.digest() : img.digest()).toString());
      d.put("size", c != null ? c.size() : img.blobSizeOfTop());
      ObjectNode ann = d.putObject("annotations");
      ann.put(BundleLayout.ANNOTATION_IMAGE_NAME, img.ref().toString());
      ann.put(BundleLayout.ANNOTATION_REF_NAME, img.ref().toString());
    }
    try {
      return Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(index);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Digest digestOf(Path file) throws IOException {
    var sha = Digest.sha256();
    try (var in = Files.newInputStream(file)) {
      byte[] buf = new byte[1 << 16];
      int n;
      while ((n = in.read(buf)) > 0) {
        sha.update(buf, 0, n);
      }
    }
    return Digest.of(sha);
  }

  private static long sizeOf(Path p) {
    try {
      return Files.size(p);
    } catch (IOException e) {
      return -2;
    }
  }

  private static void removeStalePartials(Path target, EventHandler events) throws IOException {
    String prefix = "." + target.getFileName() + ".";
    try (var files = Files.list(target.getParent())) {
      for (Path p : files.filter(f -> f.getFileName().toString().startsWith(prefix)
          && f.getFileName().toString().endsWith(".partial")).toList()) {
        Files.deleteIfExists(p);
        events.info("removed " + p.getFileName() + " left by an interrupted build");
      }
    }
  }

  private static void deleteTree(Path dir) {
    try (var walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // temp files only
    }
  }

  /** The cache directory: $AIRLOCK_CACHE_DIR, else $XDG_CACHE_HOME/airlock, else ~/.cache/airlock. */
  public static Path defaultCacheDir() {
    String env = System.getenv("AIRLOCK_CACHE_DIR");
    if (env != null && !env.isBlank()) {
      return Path.of(env);
    }
    String xdg = System.getenv("XDG_CACHE_HOME");
    return (xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache"))
        .resolve("airlock");
  }
}
