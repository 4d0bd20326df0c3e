package dev.airlock.airgap.push;

import com.fasterxml.jackson.databind.JsonNode;
import dev.airlock.event.Event;
import dev.airlock.event.EventHandler;
import dev.airlock.bundle.format.BundleFile;
import dev.airlock.bundle.format.BundleLayout;
import dev.airlock.bundle.format.BundleManifest;
import dev.airlock.bundle.format.Json;
import dev.airlock.bundle.format.TarIndex;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.oci.Digest;
import dev.airlock.oci.ImageReference;
import dev.airlock.oci.MediaTypes;
import dev.airlock.oci.RegistryClient;
import dev.airlock.oci.RegistryOptions;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Pushes a bundle's images into a registry straight out of the bundle file, without extracting it:
 * {@code ImagePusher.from(bundle).to(target).push()}. Every blob is checked with HEAD first and skipped when present;
 * a blob needed by several repositories is uploaded once and cross-repository mounted into the others; uploads run
 * in parallel (bounded), monolithic or in chunks as the registry asks; then manifests by digest and the original
 * tags. The receiving registry verifies every blob's digest. Running it again changes nothing.
 */
public final class ImagePusher {

  public static final String PHASE = "push";
  private static final int CHECKS_PER_UPLOAD = 4;

  private final BundleFile bundle;
  private RegistryTarget target;
  private RegistryOptions options = RegistryOptions.defaults();
  private int parallelism = 4;
  private long chunkSize;
  private final List<EventHandler> handlers = new ArrayList<>();

  private ImagePusher(BundleFile bundle) {
    this.bundle = bundle;
  }

  public static ImagePusher from(BundleFile bundle) {
    return new ImagePusher(bundle);
  }

  public ImagePusher to(RegistryTarget t) {
    this.target = t;
    return this;
  }

  public ImagePusher registries(RegistryOptions o) {
    this.options = o;
    return this;
  }

  public ImagePusher parallelism(int n) {
    if (n < 1 || n > 64) {
      throw new AirlockException(Kind.BAD_INPUT, "parallelism must be between 1 and 64, not " + n, null);
    }
    this.parallelism = n;
    return this;
  }

  /** Upload blobs larger than this in PATCH chunks of this size (0: one PUT unless the registry asks for chunks). */
  public ImagePusher chunkSize(long bytes) {
    this.chunkSize = bytes;
    return this;
  }

  public ImagePusher addEventHandler(EventHandler h) {
    handlers.add(h);
    return this;
  }

  /**
   * One pushed image.
   *
   * @param source the original reference recorded in the bundle
   * @param target where it is now, by tag and digest: {@code registry/prefix/path:tag@sha256:…}
   */
  public record Pushed(String source, String target, String digest) {}

  /**
   * What a push did.
   *
   * @param images every image with its new reference
   * @param blobsUploaded blobs whose bytes were sent
   * @param bytesUploaded their bytes
   * @param blobsMounted blobs linked from another repository of the registry
   * @param blobsPresent blobs the registry already had
   * @param manifestsPut manifests and tags written
   */
  public record Result(List<Pushed> images, int blobsUploaded, long bytesUploaded, int blobsMounted,
      int blobsPresent, int manifestsPut) {
    public Result {
      images = List.copyOf(images);
    }
  }

  /** A manifest to put, with its media type. */
  private record ManifestBlob(Digest digest, String mediaType, byte[] bytes) {}

  /**
   * One image's work: its repository, its manifests (children first), the blobs to send, and (for a delta bundle)
   * the blobs the registry must already hold.
   */
  private record ImagePlan(ImageReference source, String repository, ManifestBlob top, List<ManifestBlob> children,
      Set<Digest> blobs, Set<Digest> assumed, boolean signature) {
    ImagePlan(ImageReference source, String repository, ManifestBlob top, List<ManifestBlob> children,
        Set<Digest> blobs, Set<Digest> assumed) {
      this(source, repository, top, children, blobs, assumed, false);
    }
  }

  /**
   * For a delta bundle: refuses, writing nothing, when the target registry lacks a blob the bundle leaves out (so an
   * install can check before it changes anything). A full bundle passes.
   */
  public void checkDeltaBase() {
    BundleManifest manifest = bundle.readHead().manifest();
    if (manifest.delta() == null) {
      return;
    }
    Set<Digest> omitted = new HashSet<>();
    manifest.delta().omitted().forEach(d -> omitted.add(Digest.parse(d)));
    List<ImagePlan> all = plan(manifest, omitted);
    checkDeltaBase(new RegistryClient(options), all, all, manifest);
  }

  /**
   * What a push would send, asking the registry and writing nothing.
   *
   * @param images images whose tag does not yet point at their digest
   * @param blobs distinct blobs the registry lacks in the repositories that need them
   * @param bytes their bytes
   */
  public record Survey(int images, int blobs, long bytes) {}

  public Survey survey() {
    BundleManifest manifest = bundle.readHead().manifest();
    Set<Digest> omitted = new HashSet<>();
    if (manifest.delta() != null) {
      manifest.delta().omitted().forEach(d -> omitted.add(Digest.parse(d)));
    }
    RegistryClient client = new RegistryClient(options);
    List<ImagePlan> all = plan(manifest, omitted);
    // HEADs only: as wide as a push's checks.
    ExecutorService pool = Executors.newFixedThreadPool(Math.min(parallelism * CHECKS_PER_UPLOAD, 32), r -> {
      Thread t = new Thread(r, "airlock-survey");
      t.setDaemon(true);
      return t;
    });
    try {
      List<CompletableFuture<Boolean>> complete = new ArrayList<>();
      for (ImagePlan p : all) {
        complete.add(CompletableFuture.supplyAsync(() -> p.source().tag() != null && client.manifestDigest(
            target.registry(), p.repository(), p.source().tag()).filter(p.top().digest()::equals).isPresent(), pool));
      }
      int images = 0;
      Map<Digest, CompletableFuture<Boolean>> lacking = new LinkedHashMap<>();
      for (int i = 0; i < all.size(); i++) {
        ImagePlan p = all.get(i);
        if (join(complete.get(i))) {
          continue;
        }
        images++;
        for (Digest d : p.blobs()) {
          lacking.computeIfAbsent(d, x -> CompletableFuture.supplyAsync(() -> client.blobSize(target.registry(),
              p.repository(), d).isEmpty(), pool));
        }
      }
      int blobs = 0;
      long bytes = 0;
      for (Map.Entry<Digest, CompletableFuture<Boolean>> e : lacking.entrySet()) {
        if (join(e.getValue())) {
          blobs++;
          bytes += entry(e.getKey()).size();
        }
      }
      return new Survey(images, blobs, bytes);
    } finally {
      pool.shutdownNow();
    }
  }

  /** The value of a finished check, or its failure as thrown by the check itself. */
  private static <T> T join(CompletableFuture<T> f) {
    try {
      return f.join();
    } catch (java.util.concurrent.CompletionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw e;
    }
  }

  public Result push() {
    if (target == null) {
      throw new IllegalStateException("to(..) is required");
    }
    failed = null;
    EventHandler events = e -> handlers.forEach(h -> h.on(e));
    BundleManifest manifest = bundle.readHead().manifest();
    Set<Digest> omitted = new HashSet<>();
    if (manifest.delta() != null) {
      manifest.delta().omitted().forEach(d -> omitted.add(Digest.parse(d)));
    }
    List<ImagePlan> all = plan(manifest, omitted);
    RegistryClient client = new RegistryClient(options);
    String registry = target.registry();
    Counters n = new Counters();
    // HEAD requests are cheap for the registry: they go CHECKS_PER_UPLOAD times as wide as uploads.
    ExecutorService checkPool = Executors.newFixedThreadPool(Math.min(parallelism * CHECKS_PER_UPLOAD, 32), r -> {
      Thread t = new Thread(r, "airlock-check");
      t.setDaemon(true);
      return t;
    });
    ExecutorService pool = Executors.newFixedThreadPool(parallelism, r -> {
      Thread t = new Thread(r, "airlock-push");
      t.setDaemon(true);
      return t;
    });
    try {
      // An image whose tag already points at its digest is complete (registries check a manifest's blobs when it
      // is written): one HEAD per image makes a repeated push cheap.
      List<CompletableFuture<Boolean>> checks = new ArrayList<>();
      for (ImagePlan p : all) {
        checks.add(CompletableFuture.supplyAsync(() -> p.source().tag() != null && client.manifestDigest(registry,
            p.repository(), p.source().tag()).filter(p.top().digest()::equals).isPresent(), checkPool));
      }
      List<ImagePlan> plans = new ArrayList<>();
      Map<Digest, String> home = new LinkedHashMap<>();
      Set<Digest> held = new HashSet<>();
      for (int i = 0; i < all.size(); i++) {
        ImagePlan p = all.get(i);
        if (checks.get(i).join()) {
          n.present.addAndGet(p.blobs().size() + p.assumed().size());
          p.blobs().forEach(d -> home.putIfAbsent(d, p.repository()));
          held.addAll(p.blobs());
        } else {
          plans.add(p);
        }
      }
      Map<Digest, String> holders = checkDeltaBase(client, plans, all, manifest);
      // Each blob's home: a complete image's repository that holds it, else the first repository that needs it.
      // The home gets the bytes; other repositories mount from it.
      Set<Digest> needed = new LinkedHashSet<>();
      long total = 0;
      for (ImagePlan p : plans) {
        for (Digest d : p.blobs()) {
          home.putIfAbsent(d, p.repository());
          if (needed.add(d) && !held.contains(d)) {
            total += entry(d).size();
          }
        }
      }
      events.on(new Event.PhaseStarted(PHASE, "pushing " + plans.size() + " of " + all.size() + " images to "
          + target, total));
      Map<Digest, CompletableFuture<Void>> homeReady = new HashMap<>();
      for (Digest d : needed) {
        homeReady.put(d, held.contains(d) ? CompletableFuture.completedFuture(null)
            : CompletableFuture.runAsync(guarded(() -> ensureBlob(client, home.get(d), d, events, n)), pool));
      }
      List<CompletableFuture<Void>> imagesDone = new ArrayList<>();
      for (ImagePlan p : plans) {
        List<CompletableFuture<Void>> blobsDone = new ArrayList<>();
        for (Digest d : p.blobs()) {
          String from = home.get(d);
          blobsDone.add(from.equals(p.repository()) ? homeReady.get(d)
              : homeReady.get(d).thenRunAsync(guarded(() -> linkBlob(client, p.repository(), d, from, n)), pool));
        }
        for (Digest d : p.assumed()) {
          blobsDone.add(CompletableFuture.runAsync(() -> linkAssumed(client, p.repository(), d, holders.get(d), n),
              pool));
        }
        imagesDone.add(CompletableFuture.allOf(blobsDone.toArray(CompletableFuture[]::new))
            .thenRunAsync(guarded(() -> putManifests(client, p, n.manifestsPut, events)), pool));
      }
      CompletableFuture.allOf(imagesDone.toArray(CompletableFuture[]::new)).join();
    } catch (CompletionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RuntimeException r) {
        throw r;
      }
      throw new AirlockException(Kind.REMOTE, "push failed: " + cause, null, cause);
    } finally {
      pool.shutdownNow();
      checkPool.shutdownNow();
    }
    List<Pushed> pushed = new ArrayList<>();
    for (ImagePlan p : all) {
      if (p.signature()) {
        continue;
      }
      String tag = p.source().tag() == null ? "" : ":" + p.source().tag();
      pushed.add(new Pushed(p.source().toString(), registry + "/" + p.repository() + tag + "@" + p.top().digest(),
          p.top().digest().toString()));
    }
    events.on(new Event.PhaseFinished(PHASE, n.uploaded.get() + " blobs uploaded (" + n.bytes.get() + " bytes), "
        + n.mounted.get() + " mounted, " + n.present.get() + " already present; " + n.manifestsPut.get()
        + " manifests and tags written"));
    return new Result(pushed, n.uploaded.get(), n.bytes.get(), n.mounted.get(), n.present.get(),
        n.manifestsPut.get());
  }

  /** The first failure of a push: later tasks do not start, so a push stops at its first error. */
  private volatile RuntimeException failed;

  private Runnable guarded(Runnable task) {
    return () -> {
      RuntimeException f = failed;
      if (f != null) {
        throw f;
      }
      dev.airlock.io.Cancellation.check("pushing to " + target);
      try {
        task.run();
      } catch (RuntimeException e) {
        if (failed == null) {
          failed = e;
        }
        throw e;
      }
    };
  }

  /**
   * A blob the bundle holds under the wrong bytes: the registry was never given its last bytes, so it holds nothing
   * wrong; the error names the bundle entry, as {@code bundle verify} does.
   */
  private AirlockException damaged(AirlockException e, TarIndex.Entry entry, Digest d) {
    if (e.kind() != Kind.VERIFICATION || e.get("digest").isEmpty()) {
      return e;
    }
    return new AirlockException(Kind.VERIFICATION, "bundle entry " + entry.name() + " does not match its digest "
        + d + " (its bytes hash to " + e.get("actual").orElse("something else") + ")" + bundle.whereIs(entry)
        + "; the push stopped before the registry accepted it", "the bundle is damaged: get a fresh copy ('airlock bundle verify FILE' lists every "
        + "damaged entry), or push with --verify-contents to check the whole bundle before anything is sent", e)
        .with(AirlockException.ENTRY, entry.name());
  }

  /** What a push did so far; updated from many threads. */
  private static final class Counters {
    final AtomicInteger uploaded = new AtomicInteger();
    final AtomicInteger mounted = new AtomicInteger();
    final AtomicInteger present = new AtomicInteger();
    final AtomicInteger manifestsPut = new AtomicInteger();
    final AtomicLong bytes = new AtomicLong();
  }

  /** The blob into its home repository: nothing if there, else its bytes from the bundle. */
  private void ensureBlob(RegistryClient client, String repository, Digest d, EventHandler events, Counters n) {
    TarIndex.Entry e = entry(d);
    if (client.blobSize(target.registry(), repository, d).isPresent()) {
      n.present.incrementAndGet();
      events.on(new Event.Progress(PHASE, e.size()));
      return;
    }
    try {
      client.uploadBlob(target.registry(), repository, d, e.size(), (from, length) -> counting(bundle.open(e, from,
          length), events), chunkSize);
    } catch (AirlockException x) {
      throw damaged(x, e, d);
    }
    n.uploaded.incrementAndGet();
    n.bytes.addAndGet(e.size());
  }

  /** The blob into another repository: nothing if there, else mounted from its home, else uploaded again. */
  private void linkBlob(RegistryClient client, String repository, Digest d, String home, Counters n) {
    String registry = target.registry();
    if (client.blobSize(registry, repository, d).isPresent()) {
      n.present.incrementAndGet();
    } else if (client.mountBlob(registry, repository, d, home)) {
      n.mounted.incrementAndGet();
    } else {
      TarIndex.Entry e = entry(d);
      try {
        client.uploadBlob(registry, repository, d, e.size(), (off, len) -> bundle.open(e, off, len), chunkSize);
      } catch (AirlockException x) {
        throw damaged(x, e, d);
      }
      n.uploaded.incrementAndGet();
      n.bytes.addAndGet(e.size());
    }
  }

  /** A blob a delta bundle leaves out, into a repository that needs it, from where the registry holds it. */
  private void linkAssumed(RegistryClient client, String repository, Digest d, String holder, Counters n) {
    String registry = target.registry();
    if (holder.equals(repository) || client.blobSize(registry, repository, d).isPresent()) {
      n.present.incrementAndGet();
    } else if (client.mountBlob(registry, repository, d, holder)) {
      n.mounted.incrementAndGet();
    } else {
      throw new AirlockException(Kind.REMOTE, "registry " + registry + " would not mount blob " + d + " from "
          + holder + " into " + repository + ", and this delta bundle does not carry it",
          "push the full bundle instead, or allow cross-repository mounts on the registry");
    }
  }

  /**
   * For a delta bundle: finds, before anything is written, a repository of the target that holds each omitted blob;
   * refuses naming every blob that is nowhere.
   */
  private Map<Digest, String> checkDeltaBase(RegistryClient client, List<ImagePlan> plans, List<ImagePlan> all,
      BundleManifest manifest) {
    Map<Digest, String> holders = new HashMap<>();
    Map<Digest, List<String>> needers = new LinkedHashMap<>();
    for (ImagePlan p : plans) {
      p.assumed().forEach(d -> needers.computeIfAbsent(d, k -> new ArrayList<>()).add(p.repository()));
    }
    // Where to look: every repository of the bundle's images that uses the blob.
    Map<Digest, Set<String>> candidates = new HashMap<>();
    for (ImagePlan p : all) {
      for (Digest d : p.assumed()) {
        candidates.computeIfAbsent(d, k -> new LinkedHashSet<>()).add(p.repository());
      }
      for (Digest d : p.blobs()) {
        candidates.computeIfAbsent(d, k -> new LinkedHashSet<>()).add(p.repository());
      }
    }
    List<String> missing = new ArrayList<>();
    for (Map.Entry<Digest, List<String>> e : needers.entrySet()) {
      for (String repo : candidates.get(e.getKey())) {
        if (client.blobSize(target.registry(), repo, e.getKey()).isPresent()) {
          holders.put(e.getKey(), repo);
          break;
        }
      }
      if (!holders.containsKey(e.getKey())) {
        missing.add(e.getKey() + " (" + String.join(", ", e.getValue()) + ")");
      }
    }
    if (!missing.isEmpty()) {
      throw new AirlockException(Kind.BAD_INPUT, "this is a delta bundle of " + manifest.delta().base() + ", and "
          + target + " lacks " + missing.size() + " of the blobs it leaves out: " + String.join("; ",
          missing.subList(0, Math.min(missing.size(), 20))) + (missing.size() > 20 ? "; …" : "")
          + ". Nothing was pushed.",
          "push the base bundle to " + target + " first, or use the full bundle");
    }
    return holders;
  }

  private void putManifests(RegistryClient client, ImagePlan p, AtomicInteger put, EventHandler events) {
    String registry = target.registry();
    String tag = p.source().tag();
    // A tag already on this digest means the registry accepted the manifest, and with it (registries refuse an
    // index whose children are missing) every child: nothing to write.
    if (tag != null && client.manifestDigest(registry, p.repository(), tag).filter(p.top().digest()::equals)
        .isPresent()) {
      return;
    }
    List<ManifestBlob> all = new ArrayList<>(p.children());
    all.add(p.top());
    for (ManifestBlob m : all) {
      if (client.manifestDigest(registry, p.repository(), m.digest().toString()).isEmpty()) {
        client.putManifest(registry, p.repository(), m.digest().toString(), m.bytes(), m.mediaType());
        put.incrementAndGet();
      }
    }
    if (tag != null) {
      client.putManifest(registry, p.repository(), tag, p.top().bytes(), p.top().mediaType());
      put.incrementAndGet();
    }
    events.debug("pushed " + p.source() + " -> " + registry + "/" + p.repository() + "@" + p.top().digest());
  }

  private List<ImagePlan> plan(BundleManifest manifest, Set<Digest> omitted) {
    List<ImagePlan> plans = new ArrayList<>();
    Map<String, String> taken = new HashMap<>();
    for (BundleManifest.Image img : manifest.images()) {
      ImageReference source = ImageReference.parse(img.ref());
      String repository = target.repositoryFor(source);
      String key = repository + ":" + (source.tag() == null ? img.digest() : source.tag());
      String previous = taken.putIfAbsent(key, img.digest());
      if (previous != null && !previous.equals(img.digest())) {
        throw new AirlockException(Kind.BAD_INPUT, "two images of the bundle would both be pushed to "
            + target.registry() + "/" + key + " (" + img.ref() + " and another with digest " + previous + ")",
            "push to a registry prefix where their paths differ");
      }
      ManifestBlob top = manifestBlob(Digest.parse(img.digest()));
      List<ManifestBlob> children = new ArrayList<>();
      Set<Digest> blobs = new LinkedHashSet<>();
      Set<Digest> assumed = new LinkedHashSet<>();
      if (MediaTypes.isIndex(top.mediaType())) {
        for (JsonNode child : json(top).path("manifests")) {
          Digest d = Digest.parse(child.path("digest").asText());
          if (bundle.index().get(BundleLayout.blobPath(d)) == null) {
            throw new AirlockException(Kind.VERIFICATION, "bundle " + bundle.path() + " lacks manifest " + d + " of "
                + img.ref(), "copy the bundle again from the vendor's original");
          }
          ManifestBlob m = manifestBlob(d);
          children.add(m);
          addBlobs(m, img.ref(), blobs, omitted, assumed);
        }
      } else {
        addBlobs(top, img.ref(), blobs, omitted, assumed);
      }
      plans.add(new ImagePlan(source, repository, top, children, blobs, assumed));
      // Cosign signatures and attestations go beside the image under their tag (sha256-<hex>.sig / .att), where
      // cosign verify and admission controllers look for them.
      for (BundleManifest.Signature sig : img.signatures()) {
        ManifestBlob m = manifestBlob(Digest.parse(sig.digest()));
        Set<Digest> sigBlobs = new LinkedHashSet<>();
        Set<Digest> sigAssumed = new LinkedHashSet<>();
        addBlobs(m, img.ref() + " (" + sig.tag() + ")", sigBlobs, omitted, sigAssumed);
        ImageReference at = new ImageReference(source.registry(), source.repository(), sig.tag(), null);
        plans.add(new ImagePlan(at, repository, m, List.of(), sigBlobs, sigAssumed, true));
      }
    }
    return plans;
  }

  private void addBlobs(ManifestBlob m, String ref, Set<Digest> out, Set<Digest> omitted, Set<Digest> assumed) {
    JsonNode json = json(m);
    List<JsonNode> descriptors = new ArrayList<>();
    descriptors.add(json.path("config"));
    json.path("layers").forEach(descriptors::add);
    for (JsonNode d : descriptors) {
      Digest digest = Digest.parse(d.path("digest").asText());
      if (bundle.index().get(BundleLayout.blobPath(digest)) == null) {
        if (d.has("urls")) {
          continue; // a foreign layer: the runtime fetches it from its URLs
        }
        if (omitted.contains(digest)) {
          assumed.add(digest);
          continue;
        }
        throw new AirlockException(Kind.VERIFICATION, "bundle " + bundle.path() + " lacks blob " + digest + " of "
            + ref, "copy the bundle again from the vendor's original");
      }
      out.add(digest);
    }
  }

  private ManifestBlob manifestBlob(Digest d) {
    byte[] bytes = bundle.readAll(entry(d));
    JsonNode n = json(bytes, d);
    String type = n.path("mediaType").asText("");
    if (type.isEmpty()) {
      type = n.has("manifests") ? MediaTypes.OCI_INDEX : MediaTypes.OCI_MANIFEST;
    }
    return new ManifestBlob(d, type, bytes);
  }

  private JsonNode json(ManifestBlob m) {
    return json(m.bytes(), m.digest());
  }

  private JsonNode json(byte[] bytes, Digest d) {
    try {
      return Json.MAPPER.readTree(bytes);
    } catch (IOException e) {
      throw new AirlockException(Kind.VERIFICATION, "manifest " + d + " in " + bundle.path() + " is not JSON",
          "copy the bundle again from the vendor's original", e);
    }
  }

  private TarIndex.Entry entry(Digest d) {
    TarIndex.Entry e = bundle.index().get(BundleLayout.blobPath(d));
    if (e == null) {
      throw new AirlockException(Kind.VERIFICATION, "bundle " + bundle.path() + " lacks blob " + d,
          "copy the bundle again from the vendor's original");
    }
    return e;
  }

  private static InputStream counting(InputStream in, EventHandler events) {
    return new FilterInputStream(in) {
      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        int n = super.read(b, off, len);
        if (n > 0) {
          events.on(new Event.Progress(PHASE, n));
        }
        return n;
      }
    };
  }
}
