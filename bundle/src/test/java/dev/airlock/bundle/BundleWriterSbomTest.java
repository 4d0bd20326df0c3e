package dev.airlock.bundle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.airlock.bundle.format.BundleFile;
import dev.airlock.bundle.format.TarIndex;
import dev.airlock.oci.Digest;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The writer's end-of-build step: entries appended after the plan, head entries rewritten in place. */
class BundleWriterSbomTest {

  static final byte[] BLOB = "layer bytes".getBytes(StandardCharsets.UTF_8);
  static final Digest D = Digest.of(BLOB);

  static List<BundleWriter.Item> items() {
    return List.of(BundleWriter.Item.bytes("airlock/checksums.txt", "placeholder-0000".getBytes(StandardCharsets.UTF_8)),
        BundleWriter.Item.blob("blobs/sha256/" + D.hex(), D, BLOB.length));
  }

  @Test
  void finish_appendsEntriesAndRewritesTheHead_thenTheTarIndexesCleanly(@TempDir Path tmp) throws Exception {
    Path target = tmp.resolve("b.airlock");
    try (BundleWriter w = new BundleWriter(target, items(), 0)) {
      w.open();
      w.channel().write(ByteBuffer.wrap(BLOB), w.offset(D));
      w.markDone(D);
      w.finish(List.of(BundleWriter.Item.bytes("airlock/sbom/x.cdx.json", "{\"bomFormat\":1}".getBytes(
          StandardCharsets.UTF_8))), Map.of("airlock/checksums.txt", "the-real-sums-01".getBytes(
              StandardCharsets.UTF_8)));
      w.commit();
    }
    try (BundleFile f = BundleFile.open(target)) {
      assertThat(f.index().entries()).extracting(TarIndex.Entry::name).containsExactly("airlock/checksums.txt",
          "blobs/sha256/" + D.hex(), "airlock/sbom/x.cdx.json");
      assertThat(new String(f.readAll(f.index().get("airlock/checksums.txt")), StandardCharsets.UTF_8))
          .isEqualTo("the-real-sums-01");
      assertThat(new String(f.readAll(f.index().get("airlock/sbom/x.cdx.json")), StandardCharsets.UTF_8))
          .isEqualTo("{\"bomFormat\":1}");
    }
  }

  @Test
  void finish_refusesAHeadRewriteOfAnotherLength(@TempDir Path tmp) {
    try (BundleWriter w = new BundleWriter(tmp.resolve("b.airlock"), items(), 0)) {
      w.open();
      assertThatThrownBy(() -> w.finish(List.of(), Map.of("airlock/checksums.txt", "longer than before".getBytes(
          StandardCharsets.UTF_8)))).hasMessageContaining("changed length");
    }
  }

  @Test
  void open_afterARunKilledOnceItHadAppendedSboms_resumesItsBlobs(@TempDir Path tmp) throws Exception {
    Path target = tmp.resolve("b.airlock");
    long planned;
    try (BundleWriter w = new BundleWriter(target, items(), 0)) {
      w.open();
      planned = w.totalSize();
      w.channel().write(ByteBuffer.wrap(BLOB), w.offset(D));
      w.markDone(D);
      w.finish(List.of(BundleWriter.Item.bytes("airlock/sbom/x.cdx.json", new byte[3000])), Map.of());
      // killed here: never committed
    }
    assertThat(Files.size(tmp.resolve(".b.airlock.partial"))).isGreaterThan(planned);
    try (BundleWriter again = new BundleWriter(target, items(), 0)) {
      assertThat(again.open()).containsExactly(D);
      assertThat(again.holds(D, BLOB.length)).isTrue();
      assertThat(Files.size(tmp.resolve(".b.airlock.partial"))).isEqualTo(planned);
    }
  }
}
