package dev.airlock.bundle;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.airlock.event.Event;
import dev.airlock.event.EventHandler;
import dev.airlock.bundle.format.BundleLayout;
import dev.airlock.bundle.format.BundleManifest;
import dev.airlock.bundle.format.BundleSignature;
import dev.airlock.bundle.format.Checksums;
import dev.airlock.bundle.format.Json;
import dev.airlock.bundle.spec.BundleSpec;
import dev.airlock.bundle.spec.BundleSpec.ComponentSpec;
import dev.airlock.bundle.spec.ImagePolicy;
import dev.airlock.bundle.spec.Mirror;
import dev.airlock.bundle.supply.CosignKey;
import dev.airlock.bundle.supply.ImageSignatures;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.keys.RevocationList;
import dev.airlock.keys.SigningKey;
import dev.airlock.oci.Digest;
import dev.airlock.oci.ImageReference;
import dev.airlock.oci.MediaTypes;
import dev.airlock.oci.Platform;
import dev.airlock.oci.RegistryClient;
import dev.airlock.oci.RegistryOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.charset.StandardCharsets;
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
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Builds one signed bundle file from a spec:
 * {@code Bundler.from(spec).signWith(key).registries(opts).build(output)}. Phases: charts, images, blobs, SBOMs
 * (see {@link SbomStage}), write.
 * Blobs go through a content-addressed cache so a re-run after a failure downloads only what is missing; the output
 * appears under its name only when complete.
 */
public final class Bundler {

  public static final String PHASE_CHARTS = "charts";
  public static final String PHASE_RESOLVE = "resolve";
  public static final String PHASE_DOWNLOAD = "download";
  public static final String PHASE_SBOM = SbomStage.PHASE;
  /** How often a download's progress is journaled, so a killed build resumes a large blob mid-way. */
  static final long PROGRESS_JOURNAL_BYTES = 4L << 20;

  private final BundleSpec spec;
  private RegistryOptions registryOptions = RegistryOptions.defaults();
  private List<Platform> platforms;
  private int parallelism = 4;
  private Path cacheDir = defaultCacheDir().orElse(null);
  private SigningKey signingKey;
  private Clock clock = Clock.systemUTC();
  private String builderVersion = "dev";
  private DeltaBase deltaBase;
  private Path serverApplication;
  private boolean sboms = true;
  private dev.airlock.bundle.sbom.CatalogueLimits catalogueLimits = dev.airlock.bundle.sbom.CatalogueLimits.defaults();
  private final List<EventHandler> handlers = new ArrayList<>();
  /** The public keys of the spec's image policy, read before anything is fetched. */
  private final List<CosignKey> imageKeys;

  private Bundler(BundleSpec spec) {
    this.spec = spec;
    this.platforms = spec.platforms();
    this.imageKeys = spec.imagePolicy().keys().stream().map(CosignKey::read).toList();
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

  /**
   * Also keep every blob in this content-addressed directory and take blobs from it: saves downloads across
   * builds of different bundles, at the cost of a second copy on disk. Null (the default without
   * AIRLOCK_CACHE_DIR) writes each blob once, straight into the bundle.
   */
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

  /** Build a delta: leave out (and never download) layers and configs {@code base} already has. */
  public Bundler deltaFrom(DeltaBase base) {
    this.deltaBase = base;
    return this;
  }

  /**
   * Airlock's own application directory ({@code quarkus-app}), from which the server image is built when the spec
   * has a {@code server} section.
   */
  public Bundler serverApplication(Path appDir) {
    this.serverApplication = appDir;
    return this;
  }

  /** Catalogue every image's layers into an SBOM stored in the bundle (default true). */
  public Bundler sboms(boolean on) {
    this.sboms = on;
    return this;
  }

  /** Bounds on cataloguing one layer; the defaults suit real images (tests make them small). */
  Bundler catalogueLimits(dev.airlock.bundle.sbom.CatalogueLimits limits) {
    this.catalogueLimits = limits;
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
   * @param blobsReused blobs taken from an interrupted earlier run or from the cache directory
   */
  public record Result(Path output, BundleManifest manifest, long size, int blobsDownloaded, long bytesDownloaded,
      int blobsReused) {}

  /** A blob to store, with where to fetch it from: a registry, or a file this build made ({@code local}). */
  private record BlobRef(Digest digest, long size, ImageReference source, Path local) {
    BlobRef(Digest digest, long size, ImageReference source) {
      this(digest, size, source, null);
    }
  }

  /** An image resolved to its manifests and blobs. */
  private record ResolvedImage(ImageReference ref, Digest digest, String mediaType, long size, List<String> platforms,
      List<Digest> blobs, long topSize, Digest sourceDigest, List<ImageSignatures.Found> signatures) {
    ResolvedImage(ImageReference ref, Digest digest, String mediaType, long size, List<String> platforms,
        List<Digest> blobs, long topSize) {
      this(ref, digest, mediaType, size, platforms, blobs, topSize, digest, List.of());
    }

    ResolvedImage withPlatforms(List<String> p) {
      return new ResolvedImage(ref, digest, mediaType, size, p, blobs, topSize, sourceDigest, signatures);
    }

    ResolvedImage withSignatures(List<ImageSignatures.Found> s) {
      return new ResolvedImage(ref, digest, mediaType, size, platforms, blobs, topSize, sourceDigest,
          List.copyOf(s));
    }
  }

  public Result build(Path output) {
    Objects.requireNonNull(signingKey, "signWith(..) is required");
    EventHandler events = e -> handlers.forEach(h -> h.on(e));
    Path target = output.toAbsolutePath();
    Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
    // Refuse early, before any download, if the signature could not be made.
    signingKey.sign(new byte[0], now);
    RegistryClient registry = new RegistryClient(registryOptions);
    Path work;
    Path lockFile = target.resolveSibling("." + target.getFileName() + ".lock");
    java.nio.channels.FileChannel lockChannel;
    try {
      Files.createDirectories(target.getParent());
      // One build per target at a time; then scratch left by an interrupted build can go.
      lockChannel = java.nio.channels.FileChannel.open(lockFile, java.nio.file.StandardOpenOption.CREATE,
          java.nio.file.StandardOpenOption.WRITE);
      if (lockChannel.tryLock() == null) {
        lockChannel.close();
        throw new AirlockException(Kind.BAD_INPUT, "another airlock build is writing " + target + " right now",
            "wait for it to finish, or write to another file");
      }
      try (var stale = Files.list(target.getParent())) {
        for (Path p : stale.filter(f -> f.getFileName().toString().startsWith("." + target.getFileName() + ".work"))
            .toList()) {
          dev.airlock.io.TempTrees.delete(p);
        }
      }
      work = Files.createTempDirectory(target.getParent(), "." + target.getFileName() + ".work");
    } catch (IOException e) {
      throw new AirlockException(Kind.IO, "cannot write in " + target.getParent() + ": " + e.getMessage(),
          "choose a writable output directory", e);
    }
    ExecutorService resolvers = Executors.newFixedThreadPool(parallelism, r -> {
      Thread t = new Thread(r, "airlock-resolve");
      t.setDaemon(true);
      return t;
    });
    try {
      // Explicit images resolve while the charts are packaged and rendered.
      Map<ImageReference, Future<Resolution>> resolutions = new LinkedHashMap<>();
      for (ImageReference ref : spec.images()) {
        resolutions.computeIfAbsent(ref, r -> resolvers.submit(() -> resolve(registry, r, events)));
      }
      List<ComponentSpec> components = new ArrayList<>(spec.components());
      if (spec.server().isPresent()) {
        // The server image builds (Jib pulls the JRE base) while the charts are packaged and rendered.
        BundleSpec.ServerSpec server = spec.server().get();
        Path dir = work.resolve("server");
        Path layerCache = cacheDir != null ? cacheDir.resolve("jib") : work.resolve("jib-base-cache");
        ImageReference image = ServerComponent.imageRef(builderVersion);
        resolutions.put(image, resolvers.submit(() -> serverResolution(ServerComponent.buildImage(server,
            mirrored(server.baseImage()), serverApplication, builderVersion, registryOptions, dir, layerCache,
            events))));
        try {
          Path chart = ServerComponent.writeChart(dir.resolve("chart"), builderVersion, image);
          components.add(new ComponentSpec(BundleSpec.ServerSpec.COMPONENT, true,
              new dev.airlock.bundle.spec.ChartSource.Directory(chart), List.of(), server.namespace(),
              BundleSpec.ServerSpec.COMPONENT, List.of(), List.of()));
        } catch (IOException e) {
          throw new AirlockException(Kind.IO, "cannot write the airlock server chart in " + dir + ": "
              + e.getMessage(), "check free disk space", e);
        }
      }
      // 1. charts
      events.on(new Event.PhaseStarted(PHASE_CHARTS, "packaging and rendering " + components.size()
          + " charts", -1));
      Map<String, Charts.Packaged> charts = new LinkedHashMap<>();
      Map<String, List<ImageReference>> componentImages = new LinkedHashMap<>();
      for (ComponentSpec c : components) {
        Charts.Packaged chart = Charts.prepare(c.chart(), work, registry, this::mirrored);
        charts.put(c.name(), chart);
        List<String> warnings = new ArrayList<>();
        List<ImageReference> imgs = new ArrayList<>(Charts.renderImages(chart, c, warnings));
        warnings.forEach(events::warn);
        for (ImageReference extra : c.images()) {
          if (!imgs.contains(extra)) {
            imgs.add(extra);
          }
        }
        componentImages.put(c.name(), imgs);
        for (ImageReference ref : imgs) {
          resolutions.computeIfAbsent(ref, r -> resolvers.submit(() -> resolve(registry, r, events)));
        }
        events.info("component " + c.name() + ": chart " + chart.name() + " " + chart.version() + ", "
            + imgs.size() + " images");
      }
      events.on(new Event.PhaseFinished(PHASE_CHARTS, charts.size() + " charts"));

      // 2. manifests (and small configs, for platforms), merged in a stable order
      events.on(new Event.PhaseStarted(PHASE_RESOLVE, "resolving " + resolutions.size() + " images", -1));
      Map<Digest, byte[]> manifests = new LinkedHashMap<>();
      Map<Digest, BlobRef> blobs = new LinkedHashMap<>();
      List<ResolvedImage> images = new ArrayList<>();
      for (Future<Resolution> f : resolutions.values()) {
        Resolution r = await(f);
        r.manifests().forEach(manifests::putIfAbsent);
        r.blobs().forEach(blobs::putIfAbsent);
        images.add(r.image());
        events.info("image " + r.image().ref() + " -> " + r.image().digest());
      }
      events.on(new Event.PhaseFinished(PHASE_RESOLVE, images.size() + " images, " + blobs.size() + " blobs"));

      // 3. plan the file; blobs an interrupted build of the same content completed are reused
      Plan plan;
      try {
        plan = plan(now, components, charts, componentImages, images, manifests, blobs);
      } catch (IOException e) {
        throw new AirlockException(Kind.IO, "cannot read a chart or values file: " + e.getMessage(), null, e);
      }
      try (BundleWriter writer = new BundleWriter(target, plan.items(), now.getEpochSecond())) {
        Set<Digest> done = writer.open();
        if (!done.isEmpty()) {
          events.info("resuming " + writer.partial().getFileName() + ": " + done.size()
              + " blobs were complete before the interruption");
        }
        SbomStage sbom = plan.sboms().isEmpty() ? null : new SbomStage(writer, plan.sboms(), parallelism,
            catalogueLimits, events);
        long[] counts;
        try {
          counts = fetchBlobs(registry, writer, plan, done, blobs, events, sbom == null ? d -> {} : sbom::inPlace);
          if (sbom != null) {
            addSboms(writer, plan, sbom, now, events);
          }
        } finally {
          if (sbom != null) {
            sbom.close();
          }
        }
        writer.commit();
        return new Result(target, plan.manifest(), Files.size(target), (int) counts[0], counts[1],
            (int) counts[2]);
      } catch (IOException e) {
        throw new AirlockException(Kind.IO, "cannot write " + target + ": " + e.getMessage(),
            "check free disk space in " + target.getParent(), e);
      }
    } finally {
      resolvers.shutdownNow();
      dev.airlock.io.TempTrees.delete(work);
      try {
        Files.deleteIfExists(lockFile);
        lockChannel.close();
      } catch (IOException ignored) {
        // an empty lock file left behind is harmless
      }
    }
  }

  /** The server image as this build made it: manifest and config in memory, layers from files. */
  private static Resolution serverResolution(ServerComponent.Built b) throws IOException {
    Map<Digest, byte[]> manifests = new LinkedHashMap<>();
    Map<Digest, BlobRef> blobs = new LinkedHashMap<>();
    manifests.put(b.manifestDigest(), b.manifest());
    manifests.put(b.configDigest(), b.config());
    blobs.put(b.configDigest(), new BlobRef(b.configDigest(), b.config().length, null));
    long size = b.manifest().length + b.config().length;
    for (Map.Entry<Digest, Path> l : b.layers().entrySet()) {
      long s = Files.size(l.getValue());
      blobs.put(l.getKey(), new BlobRef(l.getKey(), s, null, l.getValue()));
      size += s;
    }
    ResolvedImage img = new ResolvedImage(b.ref(), b.manifestDigest(), MediaTypes.OCI_MANIFEST, size,
        List.of(b.platform()), ServerComponent.blobOrder(b), b.manifest().length);
    return new Resolution(img, manifests, blobs);
  }

  /** One image's manifests and blobs, resolved on its own so that images resolve in parallel. */
  private record Resolution(ResolvedImage image, Map<Digest, byte[]> manifests, Map<Digest, BlobRef> blobs) {}

  private Resolution resolve(RegistryClient registry, ImageReference ref, EventHandler events) {
    Map<Digest, byte[]> manifests = new LinkedHashMap<>();
    Map<Digest, BlobRef> blobs = new LinkedHashMap<>();
    ResolvedImage img = resolve(registry, ref, manifests, blobs, events);
    // The signature covers the digest as the source serves it; a platform-filtered index has a new digest that
    // no vendor signed, so its signature is looked for under the original digest (cosign signs the index).
    List<ImageSignatures.Found> sigs = ImageSignatures.fetch(registry, ref, mirrored(ref), img.sourceDigest(),
        spec.imagePolicy(), imageKeys, events);
    for (ImageSignatures.Found f : sigs) {
      manifests.put(f.digest(), f.manifest());
      manifests.putAll(f.blobs());
    }
    img = img.withSignatures(sigs);
    if (img.platforms().isEmpty()) {
      img = img.withPlatforms(configPlatform(registry, img, manifests, blobs));
    }
    if (!platforms.isEmpty()) {
      List<String> lacking = new ArrayList<>();
      for (Platform wanted : platforms) {
        if (img.platforms().stream().map(Platform::parse).noneMatch(wanted::matches)) {
          lacking.add(wanted.toString());
        }
      }
      if (!lacking.isEmpty() && !img.platforms().isEmpty()) {
        events.warn("image " + ref + " provides " + String.join(", ", img.platforms()) + " but not "
            + String.join(", ", lacking) + " (--platform): it is bundled as is, and nodes of "
            + String.join(", ", lacking) + " cannot run it");
      }
    }
    return new Resolution(img, manifests, blobs);
  }

  private static <T> T await(Future<T> f) {
    try {
      return f.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw new AirlockException(Kind.REMOTE, "cannot resolve an image: " + e.getCause().getMessage(), null,
          e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AirlockException(Kind.REMOTE, "interrupted while resolving images", null, e);
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
    return new ResolvedImage(ref, topDigest, top.mediaType(), size, plats, imageBlobs, topBytes.length, top.digest(),
        List.of());
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

  /**
   * Puts every remote blob into its place: re-checks blobs an interrupted run finished, copies those in the cache
   * directory, downloads the rest in parallel. Returns {downloaded count, bytes, reused count}.
   */
  private long[] fetchBlobs(RegistryClient registry, BundleWriter writer, Plan plan, Set<Digest> done,
      Map<Digest, BlobRef> blobs, EventHandler events, java.util.function.Consumer<Digest> inPlace) {
    List<BlobRef> todo = new ArrayList<>();
    AtomicInteger reused = new AtomicInteger();
    long total = 0;
    for (BundleWriter.Item item : plan.items()) {
      if (item.blob() != null) {
        todo.add(blobs.get(item.blob()));
        total += item.size();
      }
    }
    // Largest first keeps every worker busy until the end.
    todo.sort(Comparator.comparingLong(BlobRef::size).reversed());
    events.on(new Event.PhaseStarted(PHASE_DOWNLOAD, "fetching " + todo.size() + " blobs into "
        + writer.partial().getFileName(), total));
    AtomicLong bytes = new AtomicLong();
    AtomicLong reusedBytes = new AtomicLong();
    AtomicInteger downloaded = new AtomicInteger();
    Path blobDir = cacheDir == null ? null : cacheDir.resolve("blobs").resolve("sha256");
    if (blobDir != null) {
      try {
        Files.createDirectories(blobDir);
      } catch (IOException e) {
        throw new AirlockException(Kind.IO, "cannot create cache directory " + blobDir + ": " + e.getMessage(),
            "choose a writable --cache-dir", e);
      }
    }
    ExecutorService pool = Executors.newFixedThreadPool(parallelism, r -> {
      Thread t = new Thread(r, "airlock-download");
      t.setDaemon(true);
      return t;
    });
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (BlobRef b : todo) {
        futures.add(pool.submit(() -> {
          if (done.contains(b.digest()) && writer.holds(b.digest(), b.size())) {
            reused.incrementAndGet();
            events.on(new Event.Progress(PHASE_DOWNLOAD, b.size()));
            inPlace.accept(b.digest());
            return null;
          }
          if (b.local() != null) {
            // A layer this build made (the server image): copied in and checked like a cached blob.
            writer.copyFrom(b.local(), b.digest(), b.size());
            if (!writer.holds(b.digest(), b.size())) {
              throw new AirlockException(Kind.IO, "layer " + b.digest() + " of the server image changed on disk "
                  + "while the bundle was written", "run the build again");
            }
            writer.markDone(b.digest());
            events.on(new Event.Progress(PHASE_DOWNLOAD, b.size()));
            inPlace.accept(b.digest());
            return null;
          }
          Path cached = blobDir == null ? null : blobDir.resolve(b.digest().hex());
          if (cached != null && Files.isRegularFile(cached) && Files.size(cached) == b.size()) {
            writer.copyFrom(cached, b.digest(), b.size());
            if (writer.holds(b.digest(), b.size())) {
              writer.markDone(b.digest());
              reused.incrementAndGet();
              events.on(new Event.Progress(PHASE_DOWNLOAD, b.size()));
              inPlace.accept(b.digest());
              return null;
            }
            Files.deleteIfExists(cached);
          }
          // A blob an interrupted run left half-written continues where the journal says it stopped.
          long kept = writer.partialBytes(b.digest());
          if (kept > 0) {
            reusedBytes.addAndGet(kept);
            events.on(new Event.Progress(PHASE_DOWNLOAD, kept));
          }
          long[] mine = {kept, kept};
          registry.downloadBlob(b.source().registry(), b.source().repository(), b.digest(), b.size(),
              writer.channel(), writer.offset(b.digest()), kept, n -> {
                bytes.addAndGet(n);
                events.on(new Event.Progress(PHASE_DOWNLOAD, n));
                mine[0] += n;
                if (mine[0] - mine[1] >= PROGRESS_JOURNAL_BYTES) {
                  writer.markProgress(b.digest(), mine[0]);
                  mine[1] = mine[0];
                }
              });
          writer.markDone(b.digest());
          downloaded.incrementAndGet();
          if (cached != null) {
            writer.copyTo(cached, b.digest(), b.size());
          }
          inPlace.accept(b.digest());
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
          throw new AirlockException(Kind.IO, "cannot fetch a blob: " + cause.getMessage(), null, cause);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      dev.airlock.io.Cancellation.check("downloading blobs into " + writer.partial().getFileName());
      throw new AirlockException(Kind.REMOTE, "interrupted while downloading", null, e);
    } finally {
      pool.shutdownNow();
    }
    events.on(new Event.PhaseFinished(PHASE_DOWNLOAD, downloaded.get() + " blobs downloaded (" + bytes.get()
        + " bytes), " + reused.get() + " reused" + (reusedBytes.get() > 0 ? ", " + reusedBytes.get() + " bytes of "
        + "partly downloaded blobs kept" : "")));
    return new long[] {downloaded.get(), bytes.get(), reused.get()};
  }

  /** Reads the config of a single-platform image (small, kept in memory) to learn its platform. */
  private List<String> configPlatform(RegistryClient registry, ResolvedImage img, Map<Digest, byte[]> manifests,
      Map<Digest, BlobRef> blobs) {
    try {
      JsonNode m = Json.MAPPER.readTree(manifests.get(img.digest()));
      Digest config = Digest.parse(m.path("config").path("digest").asText());
      BlobRef ref = blobs.get(config);
      if (ref == null || ref.size() > 1 << 20 || ref.size() < 0) {
        return List.of();
      }
      byte[] bytes = manifests.get(config);
      if (bytes == null) {
        try (var in = registry.openBlob(ref.source().registry(), ref.source().repository(), config)) {
          bytes = in.readNBytes((int) ref.size() + 1);
        }
        if (bytes.length != ref.size() || !Digest.of(bytes).equals(config)) {
          throw new AirlockException(Kind.VERIFICATION, "config " + config + " of " + img.ref()
              + " does not match its digest", "the source registry holds a damaged blob");
        }
        manifests.put(config, bytes);
      }
      JsonNode c = Json.MAPPER.readTree(bytes);
      if (c.hasNonNull("os") && c.hasNonNull("architecture")) {
        return List.of(c.get("os").asText() + "/" + c.get("architecture").asText()
            + (c.hasNonNull("variant") ? "/" + c.get("variant").asText() : ""));
      }
    } catch (IOException e) {
      // A config that is not JSON (an artifact) has no platform.
    }
    return List.of();
  }

  /**
   * Catalogues the written layers, appends each image's SBOM, and rewrites the checksum list (whose SBOM lines held
   * a placeholder digest of the same length) and the signature in place: the SBOMs end up under the signature
   * like every other entry, without moving a byte of what was planned.
   */
  private void addSboms(BundleWriter writer, Plan plan, SbomStage stage, Instant created, EventHandler events) {
    Map<String, byte[]> docs = stage.finish(created, builderVersion);
    Map<String, Digest> sums = new LinkedHashMap<>(plan.sums());
    List<BundleWriter.Item> appended = new ArrayList<>();
    for (Map.Entry<String, Digest> e : plan.sums().entrySet()) {
      byte[] doc = docs.get(e.getKey());
      if (doc != null) {
        sums.put(e.getKey(), Digest.of(doc));
        appended.add(BundleWriter.Item.bytes(e.getKey(), doc));
      }
    }
    byte[] checksumBytes = new Checksums(sums).toBytes();
    byte[] signature = BundleSignature.sign(signingKey, plan.manifestDigest(), Digest.of(checksumBytes), created)
        .toBytes();
    writer.finish(appended, Map.of(BundleLayout.CHECKSUMS, checksumBytes, BundleLayout.SIGNATURE, signature));
  }

  /** Stands for an SBOM's digest in the checksum list until the SBOM is made; same length as any digest. */
  private static final Digest SBOM_PLACEHOLDER = Digest.parse("sha256:" + "0".repeat(64));

  /**
   * The whole file, decided before any blob is fetched; only remote blobs have {@link BundleWriter.Item#blob()}.
   * SBOMs are not among the items: they are appended once the layers are in (see {@link #addSboms}).
   */
  private record Plan(BundleManifest manifest, Digest manifestDigest, List<BundleWriter.Item> items,
      Map<String, Digest> sums, List<SbomStage.Target> sboms) {}

  private Plan plan(Instant created, List<ComponentSpec> componentSpecs, Map<String, Charts.Packaged> charts,
      Map<String, List<ImageReference>> componentImages, List<ResolvedImage> images, Map<Digest, byte[]> manifests,
      Map<Digest, BlobRef> blobs) throws IOException {
    Map<String, byte[]> smallEntries = new LinkedHashMap<>();
    Map<String, Path> fileEntries = new LinkedHashMap<>();
    if (spec.revocations().isPresent()) {
      Path list = spec.revocations().get();
      byte[] bytes = Files.readAllBytes(list);
      RevocationList.parse(bytes, list.toString());
      smallEntries.put(BundleLayout.REVOCATIONS, bytes);
    }
    BundleManifest.ImagePolicy policyDoc = null;
    if (spec.imagePolicy().signatures() != ImagePolicy.Signatures.OFF) {
      List<BundleManifest.Key> keyDocs = new ArrayList<>();
      for (int i = 0; i < imageKeys.size(); i++) {
        CosignKey k = imageKeys.get(i);
        String entry = BundleLayout.IMAGE_KEYS_PREFIX + i + "-" + k.name();
        smallEntries.put(entry, k.pem());
        keyDocs.add(new BundleManifest.Key(entry, k.algorithm(), k.fingerprint()));
      }
      policyDoc = new BundleManifest.ImagePolicy(spec.imagePolicy().signatures().word(), keyDocs,
          spec.imagePolicy().identities());
    }
    smallEntries.put(BundleLayout.OCI_LAYOUT, BundleLayout.OCI_LAYOUT_CONTENT.getBytes(StandardCharsets.UTF_8));
    List<BundleManifest.Component> components = new ArrayList<>();
    for (ComponentSpec c : componentSpecs) {
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
              digestOf(chart.tgz()).toString(), Files.size(chart.tgz()),
              isServer(c) ? "airlock " + builderVersion + " (built in)" : sourceOf(c.chart())),
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
      for (ImageSignatures.Found f : img.signatures()) {
        all.add(f.digest());
        all.addAll(f.blobs().keySet());
      }
      for (Digest d : all) {
        if (!blobSizes.containsKey(d)) {
          byte[] m = manifests.get(d);
          blobSizes.put(d, m != null ? m.length : blobs.get(d).size());
        }
      }
    }
    // A delta leaves out the layers and configs its base has; manifests always stay (they are small and name
    // everything). Configs sit among the in-memory manifests (read for platforms), so tell them apart.
    BundleManifest.Delta delta = null;
    if (deltaBase != null) {
      Set<Digest> configs = new java.util.HashSet<>();
      for (byte[] m : manifests.values()) {
        try {
          JsonNode c = Json.MAPPER.readTree(m).path("config").path("digest");
          if (c.isTextual() && Digest.isDigest(c.asText())) {
            configs.add(Digest.parse(c.asText()));
          }
        } catch (IOException e) {
          // a config's bytes are not necessarily JSON: nothing to learn from them
        }
      }
      List<String> omitted = new ArrayList<>();
      long omittedBytes = 0;
      for (var it = blobSizes.entrySet().iterator(); it.hasNext();) {
        Map.Entry<Digest, Long> b = it.next();
        boolean manifest = manifests.containsKey(b.getKey()) && !configs.contains(b.getKey());
        if (!manifest && deltaBase.blobs().contains(b.getKey())) {
          omitted.add(b.getKey().toString());
          omittedBytes += b.getValue();
          it.remove();
        }
      }
      delta = new BundleManifest.Delta(deltaBase.description(), omitted, omittedBytes);
    }
    List<SbomStage.Target> sbomTargets = new ArrayList<>();
    if (sboms) {
      for (ResolvedImage i : images) {
        sbomTargets.add(new SbomStage.Target(BundleLayout.sbomPath(i.digest()), i.ref().toString(), i.digest(),
            SbomStage.platformsOf(i.digest(), i.platforms(), manifests)));
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
          c == null ? null : c.manifests().keySet().stream().map(Digest::toString).toList(),
          i.signatures().stream().map(f -> new BundleManifest.Signature(f.kind().word(), f.tag(),
              i.sourceDigest().toString(), f.digest().toString(), f.mediaType(), f.blobs().keySet().stream().map(Digest::toString).toList(),
              f.keys())).toList(), sboms ? BundleLayout.sbomPath(i.digest()) : null));
    }
    BundleManifest manifest = new BundleManifest(BundleManifest.API_VERSION, BundleManifest.KIND, spec.name(),
        spec.version().toString(), spec.description(), spec.upgradesFrom().map(Object::toString).orElse(null),
        spec.kubernetes().map(Object::toString).orElse(null),
        new BundleManifest.Requirements(spec.requirements().cpu().orElse(null),
            spec.requirements().memory().orElse(null)),
        created, new BundleManifest.Builder("airlock", builderVersion), components, imageDocs,
        new BundleManifest.Totals(imageBytes, uniqueBytes, blobSizes.size()),
        spec.revocations().isPresent() ? BundleLayout.REVOCATIONS : null, delta, policyDoc);
    byte[] manifestBytes = manifest.toBytes();

    Map<String, Digest> sums = new LinkedHashMap<>();
    sums.put(BundleLayout.MANIFEST, Digest.of(manifestBytes));
    smallEntries.forEach((name, bytes) -> sums.put(name, Digest.of(bytes)));
    blobSizes.keySet().forEach(d -> sums.put(BundleLayout.blobPath(d), d));
    for (Map.Entry<String, Path> e : fileEntries.entrySet()) {
      sums.put(e.getKey(), digestOf(e.getValue()));
    }
    sbomTargets.forEach(t -> sums.put(t.entry(), SBOM_PLACEHOLDER));
    Checksums checksums = new Checksums(sums);
    byte[] checksumBytes = checksums.toBytes();
    byte[] signature = BundleSignature.sign(signingKey, Digest.of(manifestBytes), Digest.of(checksumBytes), created)
        .toBytes();

    List<BundleWriter.Item> items = new ArrayList<>();
    items.add(BundleWriter.Item.bytes(BundleLayout.MANIFEST, manifestBytes));
    items.add(BundleWriter.Item.bytes(BundleLayout.CHECKSUMS, checksumBytes));
    items.add(BundleWriter.Item.bytes(BundleLayout.SIGNATURE, signature));
    smallEntries.forEach((name, bytes) -> items.add(BundleWriter.Item.bytes(name, bytes)));
    for (Map.Entry<Digest, Long> b : blobSizes.entrySet()) {
      byte[] m = manifests.get(b.getKey());
      if (m != null) {
        items.add(BundleWriter.Item.bytes(BundleLayout.blobPath(b.getKey()), m));
      } else {
        items.add(BundleWriter.Item.blob(BundleLayout.blobPath(b.getKey()), b.getKey(), b.getValue()));
      }
    }
    // Charts and values last: their archives carry packaging times, and blob offsets should not depend on them.
    for (Map.Entry<String, Path> e : fileEntries.entrySet()) {
      items.add(BundleWriter.Item.file(e.getKey(), e.getValue(), Files.size(e.getValue())));
    }
    return new Plan(manifest, Digest.of(manifestBytes), items, sums, sbomTargets);
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
      d.put("size", c != null ? c.size() : img.topSize());
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

  /**
   * Where a chart came from, as signed into the manifest: a path relative to the spec (never the vendor's absolute
   * paths, which say nothing to the customer and reveal the build machine), or the {@code oci://} reference.
   */
  private boolean isServer(ComponentSpec c) {
    return spec.server().isPresent() && c.name().equals(BundleSpec.ServerSpec.COMPONENT);
  }

  private String sourceOf(dev.airlock.bundle.spec.ChartSource source) {
    Path base = spec.specFile().toAbsolutePath().getParent();
    if (source instanceof dev.airlock.bundle.spec.ChartSource.Directory d) {
      return relative(base, d.path());
    }
    if (source instanceof dev.airlock.bundle.spec.ChartSource.Archive a) {
      return relative(base, a.path());
    }
    return source.toString();
  }

  private static String relative(Path base, Path p) {
    Path abs = p.toAbsolutePath().normalize();
    return base.relativize(abs).toString().replace('\\', '/');
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


  /** The cache directory from $AIRLOCK_CACHE_DIR, if set; by default there is none. */
  public static java.util.Optional<Path> defaultCacheDir() {
    String env = System.getenv("AIRLOCK_CACHE_DIR");
    return env == null || env.isBlank() ? java.util.Optional.empty() : java.util.Optional.of(Path.of(env));
  }
}
