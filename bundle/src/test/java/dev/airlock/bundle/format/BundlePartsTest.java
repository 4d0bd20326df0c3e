package dev.airlock.bundle.format;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.airlock.bundle.BundleSplitter;
import dev.airlock.bundle.BundleVerifier;
import dev.airlock.bundle.Bundler;
import dev.airlock.bundle.Fixtures;
import dev.airlock.bundle.spec.Mirror;
import dev.airlock.bundle.spec.SpecParser;
import dev.airlock.error.AirlockException;
import dev.airlock.io.Cancellation;
import dev.airlock.oci.Digest;
import dev.airlock.oci.RegistryOptions;
import dev.airlock.testing.RegistryServer;
import dev.airlock.testing.TestImages;
import dev.airlock.testing.TestImages.Layer;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Split bundles read straight from their parts: byte-for-byte identity with the single file, every reader across
 * part boundaries, and each bad part set refused by name before it is read.
 */
class BundlePartsTest {

  /** 1 MiB and an odd 1,000 bytes: no part boundary falls on a tar block. */
  static final PartSize ODD = new PartSize(1024 * 1024 + 1000);

  @TempDir static Path shared;
  static Path good;
  static Path other;
  static Fixtures.Keys keys;

  @BeforeAll
  static void buildTwo() {
    assumeTrue(RegistryServer.available(), "docker-registry is not installed (apt-get install docker-registry)");
    keys = Fixtures.keys(shared.resolve("keys"));
    try (RegistryServer registry = RegistryServer.startPlain()) {
      Fixtures.seedExample(registry, shared.resolve("images"));
      // Layers of a few MiB, so that parts of about 1 MiB end inside blobs.
      TestImages images = new TestImages(registry, shared.resolve("images"));
      images.push("hub/library/busybox:1.36", List.of(dev.airlock.testing.ExampleImages.BASE, new Layer(41, 3_000_000)),
          "linux/amd64");
      images.push("hub/library/nginx:1.27-alpine", List.of(dev.airlock.testing.ExampleImages.BASE, new Layer(42, 2_500_000)),
          "linux/amd64");
      good = build(registry, Clock.systemUTC(), "a/platform.airlock");
      // The same content built again seconds later: the same layout and sizes, another manifest (its creation time).
      other = build(registry, Clock.offset(Clock.systemUTC(), Duration.ofSeconds(5)), "b/platform.airlock");
    }
  }

  private static Path build(RegistryServer registry, Clock clock, String out) {
    return Bundler.from(SpecParser.parse(Fixtures.EXAMPLE)
            .withMirrors(List.of(Mirror.parse("docker.io=" + registry.host() + "/hub"))))
        .registries(RegistryOptions.defaults().withInsecureHosts(Set.of(registry.host())))
        .clock(clock).signWith(keys.signing()).cacheDir(shared.resolve("cache")).build(shared.resolve(out)).output();
  }

  private static BundleSplitter.Result split(Path bundle, Path dir) {
    return BundleSplitter.split(bundle).partSize(ODD).into(dir).signWith(keys.signing()).run();
  }

  private static BundleVerifier verifier() {
    return new BundleVerifier(keys.trust(), Clock.systemUTC(), e -> { });
  }

  private static void assertRefused(Path given, String... fragments) {
    var thrown = assertThatThrownBy(() -> BundleFile.open(given).close()).isInstanceOf(AirlockException.class);
    for (String f : fragments) {
      thrown.hasMessageContaining(f);
    }
  }

  private static String bytes(long n) {
    return String.format(Locale.ROOT, "%,d bytes", n);
  }

  @Test
  void split_partsAreTheBundleByteForByte_endMidEntryAndMidBlob_andVerifyFromEachWayOfNamingThem(@TempDir Path tmp)
      throws IOException {
    BundleSplitter.Result r = split(good, tmp);
    long size = Files.size(good);
    int n = r.list().parts().size();
    assertThat(n).isGreaterThanOrEqualTo(3);
    assertThat(r.parts()).allSatisfy(p -> assertThat(Files.size(p)).isLessThanOrEqualTo(ODD.bytes()));
    assertThat(r.parts().get(0).getFileName().toString()).isEqualTo("platform.airlock.part-001-of-00" + n);
    assertThat(concat(r.parts())).isEqualTo(Files.readAllBytes(good));

    try (BundleFile whole = BundleFile.open(good); BundleFile parts = BundleFile.open(r.parts().get(0))) {
      assertThat(parts.size()).isEqualTo(size);
      assertThat(parts.index().entries()).isEqualTo(whole.index().entries());
      // Boundaries fall off tar blocks, and inside blobs: readers cross parts mid-entry and mid-blob.
      for (int i = 1; i < n; i++) {
        assertThat((i * ODD.bytes()) % TarHeader.BLOCK).isNotZero();
      }
      long inside = java.util.stream.LongStream.range(1, n).map(i -> i * ODD.bytes())
          .filter(b -> parts.index().entries().stream().anyMatch(e -> BundleLayout.isBlob(e.name())
              && e.offset() < b && e.offset() + e.size() > b)).count();
      assertThat(inside).isGreaterThanOrEqualTo(n - 2);
      // A blob across a boundary streams through both parts with its digest intact.
      TarIndex.Entry across = parts.index().entries().stream()
          .filter(e -> e.offset() < ODD.bytes() && e.offset() + e.size() > ODD.bytes()).findFirst().orElseThrow();
      try (InputStream in = parts.open(across)) {
        assertThat(Digest.of(in.readAllBytes()).hex()).isEqualTo(across.name().substring(BundleLayout.BLOBS_PREFIX
            .length()));
      }
    }
    for (Path given : List.of(r.parts().get(0), tmp, r.listFile(), tmp.resolve("platform.airlock"))) {
      BundleVerifier.Verified v = verifier().verify(given);
      assertThat(v.bytes()).isPositive();
    }
    for (int i = 1; i <= n; i++) {
      assertThat(verifier().verifyPart(r.parts().get(0), i).name()).isEqualTo(r.list().part(i).name());
    }
  }

  @Test
  void join_givesBackTheIdenticalFile(@TempDir Path tmp) throws IOException {
    BundleSplitter.Result r = split(good, tmp.resolve("parts"));
    Path joined = BundleSplitter.join(r.parts().get(0), tmp.resolve("joined.airlock"), false, e -> { });
    assertThat(Files.readAllBytes(joined)).isEqualTo(Files.readAllBytes(good));
    assertThatThrownBy(() -> BundleSplitter.join(r.parts().get(0), joined, false, e -> { }))
        .hasMessageContaining("exists");
  }

  @Test
  void consumingSplit_turnsTheFileIntoItsParts(@TempDir Path tmp) throws IOException {
    Path copy = Files.copy(good, tmp.resolve(".platform.airlock.whole"));
    BundleSplitter.Result r = BundleSplitter.split(copy).named("platform.airlock").partSize(ODD).into(tmp)
        .consumeSource(true).signWith(keys.signing()).run();
    assertThat(copy).doesNotExist();
    assertThat(concat(r.parts())).isEqualTo(Files.readAllBytes(good));
    verifier().verify(tmp);
    try (Stream<Path> s = Files.list(tmp)) {
      assertThat(s.map(p -> p.getFileName().toString()).filter(f -> f.startsWith("."))).isEmpty();
    }
  }

  @Test
  void missingPart_isNamedWithItsFileAndSize(@TempDir Path tmp) throws IOException {
    BundleSplitter.Result r = split(good, tmp);
    int n = r.list().parts().size();
    Files.delete(r.parts().get(2));
    assertRefused(r.parts().get(0), "part 3 of " + n + " is missing: expected platform.airlock.part-003-of-00" + n
        + ", " + bytes(r.list().part(3).size()));
  }

  @Test
  void renamedPart_isFoundByItsBytes_andTheFixSaysRenameIt(@TempDir Path tmp) throws IOException {
    BundleSplitter.Result r = split(good, tmp);
    Files.move(r.parts().get(1), tmp.resolve("disc2.bin"));
    assertRefused(tmp, "part 2 of", "is missing", "disc2.bin holds its bytes under another name");
  }

  @Test
  void twoCopiesOfOnePart_areRefused(@TempDir Path tmp) throws IOException {
    BundleSplitter.Result r = split(good, tmp);
    Files.copy(r.parts().get(0), r.parts().get(1), StandardCopyOption.REPLACE_EXISTING);
    assertRefused(r.parts().get(0), "part 2 of", "holds the bytes of part 1", "two copies of one part");
  }

  @Test
  void partOfAnotherBuildOfTheSameSize_isRefusedBeforeItIsRead(@TempDir Path tmp) throws IOException {
    BundleSplitter.Result mine = split(good, tmp.resolve("mine"));
    BundleSplitter.Result theirs = split(other, tmp.resolve("theirs"));
    assertThat(theirs.list().part(1).size()).isEqualTo(mine.list().part(1).size());
    Files.copy(theirs.parts().get(0), mine.parts().get(0), StandardCopyOption.REPLACE_EXISTING);
    assertRefused(mine.parts().get(0), "part 1 of", "is not the part that platform.airlock.parts names",
        "another build");
    // The other build's part list beside these parts: it names another manifest.
    split(good, tmp.resolve("mine2"));
    Files.copy(theirs.listFile(), tmp.resolve("mine2/platform.airlock.parts"), StandardCopyOption.REPLACE_EXISTING);
    assertRefused(tmp.resolve("mine2"), "part 1 of", "is not the part");
  }

  @Test
  void truncatedPart_isRefusedWithBothSizes(@TempDir Path tmp) throws IOException {
    BundleSplitter.Result r = split(good, tmp);
    long size = r.list().part(2).size();
    try (RandomAccessFile f = new RandomAccessFile(r.parts().get(1).toFile(), "rw")) {
      f.setLength(size - 7);
    }
    assertRefused(tmp, "part 2 of", "has " + bytes(size - 7) + ", but the part list says " + bytes(size),
        "incomplete");
  }

  @Test
  void staleParts_ofAnEarlierBuildWithTheSameName_areRefusedNotMixed(@TempDir Path tmp) throws IOException {
    BundleSplitter.Result earlier = BundleSplitter.split(other).partSize(new PartSize(2 * 1024 * 1024 + 3))
        .into(tmp).signWith(keys.signing()).run();
    // Without --force the new split is refused; with it, the earlier parts are gone, not kept beside.
    assertThatThrownBy(() -> split(good, tmp)).hasMessageContaining("already holds parts of platform.airlock");
    BundleSplitter.Result now = BundleSplitter.split(good).partSize(ODD).into(tmp).force(true)
        .signWith(keys.signing()).run();
    assertThat(earlier.parts()).noneMatch(Files::exists);
    verifier().verify(now.parts().get(0));
    // An earlier part copied back beside the set: refused, naming it.
    Path stale = tmp.resolve(PartList.partName("platform.airlock", 1, 9));
    Files.write(stale, new byte[] {1, 2, 3});
    assertRefused(now.parts().get(0), "platform.airlock.part-001-of-009", "another (earlier?) build");
  }

  @Test
  void damagedByteInsideAPart_isNamedByVerifyPart_andByFullVerify(@TempDir Path tmp) throws IOException {
    BundleSplitter.Result r = split(good, tmp);
    Path p2 = r.parts().get(1);
    try (RandomAccessFile f = new RandomAccessFile(p2.toFile(), "rw")) {
      long mid = f.length() / 2;
      f.seek(mid);
      int b = f.read();
      f.seek(mid);
      f.write(b ^ 1);
    }
    verifier().verifyPart(r.parts().get(0), 1);
    assertThatThrownBy(() -> verifier().verifyPart(r.parts().get(0), 2))
        .hasMessageContaining("part 2 of " + r.list().parts().size()).hasMessageContaining("has the SHA-256");
    assertThatThrownBy(() -> verifier().verify(tmp)).hasMessageContaining("part 2 of")
        .hasMessageContaining("the copy is damaged");
  }

  @Test
  void alteredPartList_failsItsSignature(@TempDir Path tmp) throws IOException {
    BundleSplitter.Result r = split(good, tmp);
    String text = Files.readString(r.listFile());
    Files.writeString(r.listFile(), text.replace("\"partSize\" : " + ODD.bytes(), "\"partSize\" : "
        + (ODD.bytes() + 1)));
    assertThatThrownBy(() -> verifier().verify(tmp)).hasMessageContaining("the part list platform.airlock.parts");
  }

  @Test
  void withoutThePartList_thePartsAreRefused_namingIt(@TempDir Path tmp) throws IOException {
    BundleSplitter.Result r = split(good, tmp);
    Files.delete(r.listFile());
    assertRefused(r.parts().get(0), "the part list platform.airlock.parts is missing");
    assertRefused(tmp, "the part list platform.airlock.parts is missing");
  }

  @Test
  void stoppedSplit_leavesNoSetThatLooksComplete(@TempDir Path tmp) {
    Cancellation.request("INT");
    try {
      assertThatThrownBy(() -> split(good, tmp)).isInstanceOf(AirlockException.class)
          .hasMessageContaining("SIGINT");
    } finally {
      Cancellation.reset();
    }
    assertThat(BundleSplitter.existingParts(tmp, "platform.airlock")).isEmpty();
    assertRefused(tmp, "holding no bundle parts");
  }

  @Test
  void killedSplit_leavesScratchAndPartsButNoList_whichIsRefused_andTheRerunCleansUp(@TempDir Path tmp)
      throws IOException {
    // What kill -9 leaves at its worst moment: every part renamed into place, the list not yet written, scratch of
    // a part still being written.
    BundleSplitter.Result r = split(good, tmp);
    Files.delete(r.listFile());
    Path scratch = tmp.resolve(".platform.airlock.part-002-of-00" + r.list().parts().size() + ".partial");
    Files.write(scratch, new byte[] {1});
    assertRefused(r.parts().get(0), "the part list platform.airlock.parts is missing");
    assertThatThrownBy(() -> verifier().verify(tmp)).hasMessageContaining("is missing");
    BundleSplitter.Result again = BundleSplitter.split(good).partSize(ODD).into(tmp).force(true)
        .signWith(keys.signing()).run();
    assertThat(scratch).doesNotExist();
    verifier().verify(again.parts().get(0));
  }

  @Test
  void partSizes_parseAsUsersWriteThem() {
    assertThat(PartSize.parse("4GiB").bytes()).isEqualTo(4L << 30);
    assertThat(PartSize.parse("4.7GB").bytes()).isEqualTo(4_700_000_000L);
    assertThat(PartSize.parse("25GB").bytes()).isEqualTo(25_000_000_000L);
    assertThat(PartSize.parse("3MiB").bytes()).isEqualTo(3L << 20);
    assertThat(PartSize.parse("fat32").bytes()).isEqualTo((4L << 30) - 1);
    assertThatThrownBy(() -> PartSize.parse("4 gallons")).hasMessageContaining("is not a part size");
    assertThatThrownBy(() -> PartSize.parse("10KB")).hasMessageContaining("too small");
    assertThat(PartList.partName("p.airlock", 12, 1200)).isEqualTo("p.airlock.part-0012-of-1200");
  }

  private static byte[] concat(List<Path> parts) throws IOException {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    for (Path p : parts) {
      out.write(Files.readAllBytes(p));
    }
    return out.toByteArray();
  }
}
