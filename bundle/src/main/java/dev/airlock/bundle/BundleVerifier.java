package dev.airlock.bundle;

import dev.airlock.event.Event;
import dev.airlock.event.EventHandler;
import dev.airlock.bundle.format.BundleFile;
import dev.airlock.bundle.format.BundleLayout;
import dev.airlock.bundle.format.BundleManifest;
import dev.airlock.bundle.format.BundleParts;
import dev.airlock.bundle.format.PartList;
import dev.airlock.bundle.format.BundleSignature;
import dev.airlock.bundle.format.Checksums;
import dev.airlock.bundle.format.TarIndex;
import dev.airlock.bundle.supply.CarriedSignatures;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.keys.RevocationList;
import dev.airlock.keys.TrustedRoots;
import dev.airlock.oci.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Checks a bundle completely: structure, signature chain to a trusted root, then every entry's checksum and every
 * blob's digest. Cheap checks first, so a wrong key fails before gigabytes are hashed.
 */
public final class BundleVerifier {

  public static final String PHASE = "verify";

  private final TrustedRoots roots;
  private final Clock clock;
  private final EventHandler events;
  private final int threads;

  public BundleVerifier(TrustedRoots roots, Clock clock, EventHandler events) {
    this(roots, clock, events, Math.max(2, Runtime.getRuntime().availableProcessors()));
  }

  public BundleVerifier(TrustedRoots roots, Clock clock, EventHandler events, int threads) {
    this.roots = roots;
    this.clock = clock;
    this.events = events;
    this.threads = threads;
  }

  /**
   * What a verified bundle holds.
   *
   * @param manifest the manifest document
   * @param signerKeyId id of the signing key
   * @param rootKeyId id of the root that certified it
   * @param entries entries checked
   * @param bytes content bytes hashed
   * @param revocations the root-signed revocation list the bundle ships, verified, or null
   * @param signedImages images whose carried cosign signature verified offline against the bundle's image keys
   */
  public record Verified(BundleManifest manifest, String signerKeyId, String rootKeyId, int entries, long bytes,
      RevocationList revocations, int signedImages) {}

  public Verified verify(Path path) {
    try (BundleFile file = BundleFile.open(path)) {
      return verify(file);
    }
  }

  public Verified verify(BundleFile file) {
    return verify(file, true);
  }

  /**
   * Checks structure, certificate chain and signature, and that every checksummed entry is present and no other;
   * hashes every entry's content too when {@code contents} is true. Without it, the check costs one header read per
   * entry: for callers whose next reader verifies digests anyway (a registry receiving blobs).
   */
  public Verified verify(BundleFile file, boolean contents) {
    Path path = file.path();
    BundleFile.Head head = file.readHead();
    BundleSignature signature = BundleSignature.parse(head.signatureBytes(), path + ":" + BundleLayout.SIGNATURE);
    if (roots.isEmpty()) {
      throw new AirlockException(Kind.VERIFICATION, "no trusted root keys: cannot check the signature of " + path,
          "pass the vendor's root public key with --trust-root FILE");
    }
    // The certificate must have been valid when the bundle was built (its signed creation time), so bundles
    // outlive the rotation of the key that signed them; leaked keys are handled by revocation.
    java.time.Instant created = head.manifest().created();
    if (created == null) {
      throw corrupt(path, "its manifest has no creation time");
    }
    signature.verify(roots, Digest.of(head.manifestBytes()), Digest.of(head.checksumsBytes()), created);
    if (created.isAfter(clock.instant().plus(dev.airlock.keys.KeyFiles.CLOCK_SKEW))) {
      throw new AirlockException(Kind.VERIFICATION, "bundle " + path + " was created at " + created
          + ", after this machine's clock (" + clock.instant() + ")", "set this machine's clock right (NTP)");
    }
    events.info("signature of " + path.getFileName() + " verified: signing key " + signature.keyId()
        + " certified by root " + signature.certificate().issuer());
    if (file.parts().isPresent()) {
      verifyParts(file.parts().get(), signature.certificate().issuer(), contents);
    }

    Checksums checksums = Checksums.parse(head.checksumsBytes(), path + ":" + BundleLayout.CHECKSUMS);
    TarIndex index = file.index();
    Set<String> present = new HashSet<>();
    for (TarIndex.Entry e : index.entries()) {
      present.add(e.name());
      if (e.name().equals(BundleLayout.CHECKSUMS) || e.name().equals(BundleLayout.SIGNATURE)) {
        continue;
      }
      if (!checksums.byPath().containsKey(e.name())) {
        throw corrupt(path, "entry " + e.name() + " is not listed in the checksums (unknown entry)");
      }
    }
    List<TarIndex.Entry> toHash = new ArrayList<>();
    long total = 0;
    for (Map.Entry<String, Digest> c : checksums.byPath().entrySet()) {
      if (!present.contains(c.getKey())) {
        throw corrupt(path, "entry " + c.getKey() + " is listed in the checksums but missing from the file");
      }
      if (BundleLayout.isBlob(c.getKey()) && !c.getKey().equals(BundleLayout.blobPath(c.getValue()))) {
        throw corrupt(path, "blob " + c.getKey() + " is listed with the checksum " + c.getValue()
            + ", which is not its name");
      }
      TarIndex.Entry e = index.get(c.getKey());
      toHash.add(e);
      total += e.size();
    }
    if (contents) {
      events.on(new Event.PhaseStarted(PHASE, "checking " + toHash.size() + " entries", total));
      hashAll(file, toHash, checksums);
      events.on(new Event.PhaseFinished(PHASE, toHash.size() + " entries, " + total + " bytes verified"));
    }
    RevocationList revocations = file.revocations(head.manifest()).orElse(null);
    if (revocations != null) {
      // The list itself is root-signed; a bundle signed by a key its own list revokes is refused too.
      roots.withRevocations(revocations).verifyCertificate(signature.certificate(), head.manifest().created());
    }
    // The images' own signatures, again, offline: against the keys the (now verified) bundle carries.
    CarriedSignatures.Result signed = CarriedSignatures.verify(file, head.manifest());
    if (signed.artifacts() > 0) {
      events.info("image signatures verified: " + signed.images() + " images, " + signed.artifacts()
          + " cosign signatures and attestations");
    }
    return new Verified(head.manifest(), signature.keyId(), signature.certificate().issuer(), toHash.size(), total,
        revocations, signed.images());
  }

  /**
   * A split bundle's part list: signed by the bundle's vendor root, in time; with {@code contents}, every part's
   * SHA-256 as the list names it, so a damaged part is named as a part before its entries are hashed.
   */
  private void verifyParts(BundleParts parts, String bundleRoot, boolean contents) {
    PartList list = parts.list();
    list.verify(roots, bundleRoot, parts.listFile().getFileName().toString());
    if (list.created().isAfter(clock.instant().plus(dev.airlock.keys.KeyFiles.CLOCK_SKEW))) {
      throw new AirlockException(Kind.VERIFICATION, "the part list " + parts.listFile() + " was signed at "
          + list.created() + ", after this machine's clock (" + clock.instant() + ")",
          "set this machine's clock right (NTP)");
    }
    if (contents) {
      int n = list.parts().size();
      events.on(new Event.PhaseStarted(PHASE, "checking " + n + " parts", list.size()));
      runAll(java.util.stream.IntStream.rangeClosed(1, n).<Runnable>mapToObj(i -> () -> parts.verifyPart(i,
          bytes -> events.on(new Event.Progress(PHASE, bytes)))).toList(), parts.listFile());
      events.on(new Event.PhaseFinished(PHASE, n + " parts verified"));
    }
    events.info("part list " + parts.listFile().getFileName() + " verified: " + list.parts().size() + " parts");
  }

  /**
   * Checks one part of a split bundle alone against its signed part list: its size and SHA-256. For whoever copies
   * parts to media one at a time; the list's signature is checked, the other parts are not read.
   */
  public PartList.Part verifyPart(Path given, int number) {
    java.util.Optional<Path> listFile = BundleParts.locate(given);
    if (listFile.isEmpty()) {
      throw new AirlockException(Kind.BAD_INPUT, given + " is a single bundle file, not a part of a split bundle",
          "drop --part to check the whole file");
    }
    PartList list;
    try {
      list = PartList.parse(java.nio.file.Files.readAllBytes(listFile.get()), listFile.get().toString());
    } catch (IOException e) {
      throw new AirlockException(Kind.IO, "cannot read " + listFile.get() + ": " + e.getMessage(), null, e);
    }
    if (roots.isEmpty()) {
      throw new AirlockException(Kind.VERIFICATION, "no trusted root keys: cannot check the signature of "
          + listFile.get(), "pass the vendor's root public key with --trust-root FILE");
    }
    list.verify(roots, list.signature().certificate().issuer(), listFile.get().getFileName().toString());
    if (number < 1 || number > list.parts().size()) {
      throw new AirlockException(Kind.BAD_INPUT, "there is no part " + number + ": " + list.bundle() + " has "
          + list.parts().size() + " parts", "pass --part 1 to --part " + list.parts().size());
    }
    PartList.Part p = list.part(number);
    Path file = listFile.get().toAbsolutePath().resolveSibling(p.name());
    String which = "part " + number + " of " + list.parts().size();
    if (!java.nio.file.Files.isRegularFile(file)) {
      throw new AirlockException(Kind.BAD_INPUT, which + " is missing: expected " + p.name() + ", "
          + String.format(java.util.Locale.ROOT, "%,d bytes", p.size()) + " in " + file.getParent(),
          "copy " + p.name() + " from the original set");
    }
    try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file)) {
      long size = ch.size();
      if (size != p.size()) {
        throw new AirlockException(Kind.VERIFICATION, which + " (" + p.name() + ") has "
            + String.format(java.util.Locale.ROOT, "%,d bytes, but the part list says %,d", size, p.size()),
            "copy " + p.name() + " again from the original set");
      }
      events.on(new Event.PhaseStarted(PHASE, "checking " + p.name(), size));
      MessageDigest sha = Digest.sha256();
      java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(1 << 20);
      long pos = 0;
      while (pos < size) {
        buf.clear();
        int r = ch.read(buf, pos);
        if (r < 0) {
          throw new IOException("unexpected end at byte " + pos);
        }
        buf.flip();
        sha.update(buf);
        pos += r;
        events.on(new Event.Progress(PHASE, r));
      }
      Digest actual = Digest.of(sha);
      if (!actual.toString().equals(p.sha256())) {
        throw new AirlockException(Kind.VERIFICATION, which + " (" + p.name() + ") has the SHA-256 " + actual
            + ", but the part list says " + p.sha256() + ": the copy is damaged or from another build",
            "copy " + p.name() + " again from the original set");
      }
      events.on(new Event.PhaseFinished(PHASE, p.name() + " verified"));
      return p;
    } catch (IOException e) {
      throw new AirlockException(Kind.IO, "cannot read " + file + ": " + e.getMessage(), null, e);
    }
  }

  private void runAll(List<Runnable> tasks, Path what) {
    ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, "airlock-verify");
      t.setDaemon(true);
      return t;
    });
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (Runnable task : tasks) {
        futures.add(pool.submit(task));
      }
      for (Future<?> f : futures) {
        try {
          f.get();
        } catch (java.util.concurrent.ExecutionException ex) {
          Throwable cause = ex.getCause();
          throw cause instanceof RuntimeException r ? r
              : new AirlockException(Kind.IO, "cannot read " + what + ": " + cause.getMessage(), null, cause);
        }
      }
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
      throw new AirlockException(Kind.IO, "interrupted while verifying " + what, null, ex);
    } finally {
      pool.shutdownNow();
    }
  }

  private void hashAll(BundleFile file, List<TarIndex.Entry> entries, Checksums checksums) {
    ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, "airlock-verify");
      t.setDaemon(true);
      return t;
    });
    AtomicReference<RuntimeException> failure = new AtomicReference<>();
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (TarIndex.Entry e : entries) {
        futures.add(pool.submit(() -> {
          if (failure.get() != null) {
            return;
          }
          Digest actual = hash(file, e);
          Digest expected = checksums.byPath().get(e.name());
          if (!actual.equals(expected)) {
            failure.compareAndSet(null, corrupt(file.path(), "entry " + e.name() + " has the checksum " + actual
                + ", expected " + expected + " (the content was altered or damaged)" + file.whereIs(e)));
          }
        }));
      }
      for (Future<?> f : futures) {
        try {
          f.get();
        } catch (java.util.concurrent.ExecutionException ex) {
          Throwable cause = ex.getCause();
          failure.compareAndSet(null, cause instanceof RuntimeException r ? r
              : new AirlockException(Kind.IO, "cannot read " + file.path() + ": " + cause.getMessage(), null, cause));
        }
      }
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
      throw new AirlockException(Kind.IO, "interrupted while verifying " + file.path(), null, ex);
    } finally {
      pool.shutdownNow();
    }
    if (failure.get() != null) {
      throw failure.get();
    }
  }

  private Digest hash(BundleFile file, TarIndex.Entry e) {
    MessageDigest sha = Digest.sha256();
    byte[] buf = new byte[1 << 20];
    try (InputStream in = file.open(e)) {
      int n;
      while ((n = in.read(buf)) > 0) {
        sha.update(buf, 0, n);
        events.on(new Event.Progress(PHASE, n));
      }
    } catch (IOException ex) {
      throw new AirlockException(Kind.IO, "cannot read " + e.name() + " from " + file.path() + ": " + ex.getMessage(),
          null, ex);
    }
    return Digest.of(sha);
  }

  private static AirlockException corrupt(Path path, String what) {
    return new AirlockException(Kind.VERIFICATION, "bundle " + path + " is not valid: " + what,
        "do not use this file; copy the bundle again from the vendor's original");
  }
}
