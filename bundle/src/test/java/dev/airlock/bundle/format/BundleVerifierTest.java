package dev.airlock.bundle.format;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.airlock.bundle.BundleVerifier;
import dev.airlock.bundle.Bundler;
import dev.airlock.bundle.Fixtures;
import dev.airlock.bundle.format.TarSurgery.Item;
import dev.airlock.bundle.spec.Mirror;
import dev.airlock.bundle.spec.SpecParser;
import dev.airlock.error.AirlockException;
import dev.airlock.keys.Ed25519;
import dev.airlock.keys.SigningCertificate;
import dev.airlock.keys.TrustedRoots;
import dev.airlock.oci.Digest;
import dev.airlock.oci.RegistryOptions;
import dev.airlock.testing.RegistryServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BundleVerifierTest {

  @TempDir static Path shared;
  static Path good;
  static Fixtures.Keys keys;

  @BeforeAll
  static void buildOne() {
    assumeTrue(RegistryServer.available(), "docker-registry is not installed (apt-get install docker-registry)");
    keys = Fixtures.keys(shared.resolve("keys"));
    try (RegistryServer registry = RegistryServer.startPlain()) {
      Fixtures.seedExample(registry, shared.resolve("images"));
      good = Bundler.from(SpecParser.parse(Fixtures.EXAMPLE)
              .withMirrors(List.of(Mirror.parse("docker.io=" + registry.host() + "/hub"))))
          .registries(RegistryOptions.defaults().withInsecureHosts(Set.of(registry.host())))
          .signWith(keys.signing()).cacheDir(shared.resolve("cache")).build(shared.resolve("good.airlock")).output();
    }
  }

  private BundleVerifier verifier(TrustedRoots roots) {
    return new BundleVerifier(roots, Clock.systemUTC(), e -> {});
  }

  private void assertRefused(Path bundle, String... fragments) {
    var thrown = assertThatThrownBy(() -> verifier(keys.trust()).verify(bundle))
        .isInstanceOf(AirlockException.class);
    for (String f : fragments) {
      thrown.hasMessageContaining(f);
    }
  }

  private Path variant(Path tmp, UnaryOperator<List<Item>> change) throws IOException {
    Path out = tmp.resolve("variant.airlock");
    TarSurgery.rewrite(good, out, change);
    return out;
  }

  private static String firstBlob(List<Item> items) {
    return items.stream().map(Item::name).filter(BundleLayout::isBlob).findFirst().orElseThrow();
  }

  @Test
  void intactBundle_verifies() {
    BundleVerifier.Verified v = verifier(keys.trust()).verify(good);
    assertThat(v.entries()).isGreaterThan(10);
  }

  @Test
  void rewrittenButIdentical_verifies(@TempDir Path tmp) throws IOException {
    verifier(keys.trust()).verify(variant(tmp, items -> items));
  }

  @Test
  void tamperedBlob_isRefusedWithEntryAndDigests(@TempDir Path tmp) throws IOException {
    String[] name = new String[1];
    Path bad = variant(tmp, items -> {
      name[0] = firstBlob(items);
      int i = items.indexOf(items.stream().filter(x -> x.name().equals(name[0])).findFirst().orElseThrow());
      byte[] c = items.get(i).content().clone();
      c[c.length / 2] ^= 1;
      items.set(i, Item.file(name[0], c));
      return items;
    });
    assertRefused(bad, "entry " + name[0] + " has the checksum", "expected sha256:" + name[0].substring(13));
  }

  @Test
  void tamperedChart_isRefused(@TempDir Path tmp) throws IOException {
    Path bad = variant(tmp, items -> {
      for (int i = 0; i < items.size(); i++) {
        if (items.get(i).name().startsWith("charts/ui/")) {
          byte[] c = items.get(i).content().clone();
          c[10] ^= 1;
          items.set(i, Item.file(items.get(i).name(), c));
        }
      }
      return items;
    });
    assertRefused(bad, "entry charts/ui/platform-ui-1.4.0.tgz has the checksum");
  }

  @Test
  void unknownEntry_isRefused(@TempDir Path tmp) throws IOException {
    Path bad = variant(tmp, items -> {
      items.add(Item.file("extra/payload.sh", "rm -rf /".getBytes()));
      return items;
    });
    assertRefused(bad, "entry extra/payload.sh is not listed in the checksums (unknown entry)");
  }

  @Test
  void missingEntry_isRefused(@TempDir Path tmp) throws IOException {
    String[] name = new String[1];
    Path bad = variant(tmp, items -> {
      name[0] = firstBlob(items);
      items.removeIf(i -> i.name().equals(name[0]));
      return items;
    });
    assertRefused(bad, "entry " + name[0] + " is listed in the checksums but missing from the file");
  }

  @Test
  void duplicateEntry_isRefused(@TempDir Path tmp) throws IOException {
    Path bad = variant(tmp, items -> {
      items.add(items.get(4));
      return items;
    });
    assertRefused(bad, "entry " + "index.json" + " appears twice");
  }

  @Test
  void parentTraversal_isRefused(@TempDir Path tmp) throws IOException {
    assertRefused(variant(tmp, items -> {
      items.add(Item.file("blobs/../../etc/cron.d/evil", new byte[] {1}));
      return items;
    }), "entry blobs/../../etc/cron.d/evil climbs out of the bundle with '..'");
  }

  @Test
  void absolutePath_isRefused(@TempDir Path tmp) throws IOException {
    assertRefused(variant(tmp, items -> {
      items.add(Item.file("/etc/passwd", new byte[] {1}));
      return items;
    }), "entry /etc/passwd has an absolute path");
  }

  @Test
  void symlink_isRefused(@TempDir Path tmp) throws IOException {
    assertRefused(variant(tmp, items -> {
      items.add(new Item("charts/link", new byte[0], (byte) '2', "/etc/shadow"));
      return items;
    }), "entry charts/link is a symbolic link");
  }

  @Test
  void hardlink_isRefused(@TempDir Path tmp) throws IOException {
    assertRefused(variant(tmp, items -> {
      items.add(new Item("charts/hard", new byte[0], (byte) '1', "index.json"));
      return items;
    }), "entry charts/hard is a hard link");
  }

  @Test
  void device_isRefused(@TempDir Path tmp) throws IOException {
    assertRefused(variant(tmp, items -> {
      items.add(new Item("dev/sda", new byte[0], (byte) '4', ""));
      return items;
    }), "entry dev/sda is a device");
  }

  @Test
  void oversizedHeader_isRefused(@TempDir Path tmp) throws IOException {
    assertRefused(variant(tmp, items -> {
      items.add(3, new Item("PaxHeader", new byte[TarIndex.MAX_EXTENDED_HEADER + 1], (byte) 'x', ""));
      return items;
    }), "oversized header");
  }

  @Test
  void truncatedFile_isRefused(@TempDir Path tmp) throws IOException {
    Path cut = tmp.resolve("cut.airlock");
    byte[] all = Files.readAllBytes(good);
    Files.write(cut, java.util.Arrays.copyOf(all, all.length * 2 / 3));
    assertRefused(cut, "truncated");
  }

  @Test
  void notABundle_isRefusedWithoutStackTraceNoise(@TempDir Path tmp) throws IOException {
    Path junk = tmp.resolve("junk.airlock");
    Files.writeString(junk, "hello, I am not a tar file ".repeat(100));
    assertRefused(junk, "is not valid", "damaged");
  }

  @Test
  void tamperedManifest_failsTheSignature(@TempDir Path tmp) throws IOException {
    Path bad = variant(tmp, items -> {
      String m = new String(items.get(0).content(), StandardCharsets.UTF_8).replace("\"1.4.0\"", "\"9.9.9\"");
      items.set(0, Item.file(BundleLayout.MANIFEST, m.getBytes(StandardCharsets.UTF_8)));
      return items;
    });
    assertRefused(bad, "does not verify with signing key " + keys.signing().certificate().keyId());
  }

  @Test
  void signatureUnderAnotherRoot_isRefused(@TempDir Path tmp) {
    Fixtures.Keys other = Fixtures.keys(tmp.resolve("other"));
    assertThatThrownBy(() -> verifier(other.trust()).verify(good))
        .isInstanceOf(AirlockException.class)
        .hasMessageContaining("issued by root key " + keys.root().id())
        .hasMessageContaining("does not trust")
        .satisfies(e -> assertThat(((AirlockException) e).fix()).hasValueSatisfying(
            f -> assertThat(f).contains("--trust-root")));
  }

  @Test
  void expiredSigningCertificate_isRefused(@TempDir Path tmp) throws IOException {
    Ed25519.PrivateKey root = Ed25519.readPrivateKey(keys.dir().resolve("root.key"));
    Ed25519.PrivateKey signer = Ed25519.generate();
    Instant past = Instant.now().minus(Duration.ofDays(30));
    SigningCertificate expired = SigningCertificate.issue(root, signer.publicKey(), "old", past,
        past.plus(Duration.ofDays(1)));
    assertRefused(resign(tmp, signer, expired), "signing certificate " + signer.id() + " expired at");
  }

  @Test
  void tamperedSigningCertificate_isRefused(@TempDir Path tmp) throws IOException {
    SigningCertificate c = keys.signing().certificate();
    SigningCertificate longer = new SigningCertificate(c.version(), c.keyId(), c.publicKey(), c.issuer(),
        c.notBefore(), c.notAfter().plus(Duration.ofDays(3650)), c.subject(), c.signature());
    assertRefused(resign(tmp, keys.signing().key(), longer), "does not carry a valid signature of root key");
  }

  @Test
  void signatureByAnotherKey_isRefused(@TempDir Path tmp) throws IOException {
    // Certificate of the real signing key, signature made by some other key.
    assertRefused(resign(tmp, Ed25519.generate(), keys.signing().certificate()),
        "does not verify with signing key " + keys.signing().certificate().keyId());
  }

  /** Replaces signature.json with one made by {@code key}, presenting {@code cert}. */
  private Path resign(Path tmp, Ed25519.PrivateKey key, SigningCertificate cert) throws IOException {
    return variant(tmp, items -> {
      byte[] msg = BundleSignature.message(Digest.of(items.get(0).content()), Digest.of(items.get(1).content()));
      BundleSignature sig = new BundleSignature(1, "ed25519", cert.keyId(), cert,
          Base64.getEncoder().encodeToString(key.sign(msg)));
      items.set(2, Item.file(BundleLayout.SIGNATURE, sig.toBytes()));
      return items;
    });
  }
}
