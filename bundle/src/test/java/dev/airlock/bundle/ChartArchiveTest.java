package dev.airlock.bundle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.airlock.bundle.format.TarHeader;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Chart archives as Helm and tar write them: PAX and GNU long names are read in full; unsafe entries refused. */
class ChartArchiveTest {

  @TempDir Path dir;

  static final String LONG = "mychart/templates/" + "a-very-long-directory-name-that-helm-keeps/".repeat(3)
      + "deployment-with-a-long-name.yaml";

  Path tgz(int longFileMode, EntryWriter extra) throws IOException {
    Path file = dir.resolve("chart-" + longFileMode + ".tgz");
    try (OutputStream raw = Files.newOutputStream(file);
        GzipCompressorOutputStream gz = new GzipCompressorOutputStream(raw);
        TarArchiveOutputStream tar = new TarArchiveOutputStream(gz)) {
      tar.setLongFileMode(longFileMode);
      put(tar, "mychart/Chart.yaml", "apiVersion: v2\nname: mychart\nversion: 1.0.0\n");
      put(tar, LONG, "kind: ConfigMap\n");
      extra.write(tar);
    }
    return file;
  }

  interface EntryWriter {
    void write(TarArchiveOutputStream tar) throws IOException;
  }

  static void put(TarArchiveOutputStream tar, String name, String text) throws IOException {
    byte[] b = text.getBytes(StandardCharsets.UTF_8);
    TarArchiveEntry e = new TarArchiveEntry(name);
    e.setSize(b.length);
    tar.putArchiveEntry(e);
    tar.write(b);
    tar.closeArchiveEntry();
  }

  @Test
  void paxLongNames_areReadInFull() throws IOException {
    assertThat(LONG.length()).isGreaterThan(155);
    Map<String, byte[]> files = ChartArchive.read(tgz(TarArchiveOutputStream.LONGFILE_POSIX, t -> { }), n -> true);
    assertThat(files).containsKeys("mychart/Chart.yaml", LONG);
    assertThat(new String(files.get(LONG), StandardCharsets.UTF_8)).isEqualTo("kind: ConfigMap\n");
  }

  @Test
  void gnuLongNames_areReadInFull() throws IOException {
    Map<String, byte[]> files = ChartArchive.read(tgz(TarArchiveOutputStream.LONGFILE_GNU, t -> { }), n -> true);
    assertThat(files).containsKey(LONG);
  }

  @Test
  void unpacking_keepsTheLongPath() throws IOException {
    Path chart = ChartArchive.unpackRevealingHooks(tgz(TarArchiveOutputStream.LONGFILE_POSIX, t -> { }),
        dir.resolve("out"));
    assertThat(chart.resolve(LONG.substring("mychart/".length()))).exists();
  }

  @Test
  void linksTraversalAndDuplicates_areRefused() throws IOException {
    Path symlink = tgz(TarArchiveOutputStream.LONGFILE_POSIX, tar -> {
      TarArchiveEntry link = new TarArchiveEntry("mychart/templates/evil", TarArchiveEntry.LF_SYMLINK);
      link.setLinkName("/etc/passwd");
      tar.putArchiveEntry(link);
      tar.closeArchiveEntry();
    });
    assertThatThrownBy(() -> ChartArchive.read(symlink, n -> true)).hasMessageContaining("not a regular file");
    Path dots = tgz(TarArchiveOutputStream.LONGFILE_GNU, tar -> put(tar, "mychart/../../escape.yaml", "x"));
    assertThatThrownBy(() -> ChartArchive.read(dots, n -> true)).hasMessageContaining("unsafe name");
    Path twice = tgz(TarArchiveOutputStream.LONGFILE_TRUNCATE, tar -> put(tar, "mychart/Chart.yaml", "again"));
    assertThatThrownBy(() -> ChartArchive.read(twice, n -> true)).hasMessageContaining("appears twice");
  }

  @Test
  void bundleHeaders_forLongNames_carryAPaxRecord() {
    byte[] short1 = TarHeader.header("blobs/sha256/" + "a".repeat(64), 10, 0);
    assertThat(short1).hasSize(512);
    byte[] long1 = TarHeader.header("values/" + "c".repeat(120) + "/0-values.yaml", 10, 0);
    assertThat(long1.length).isGreaterThan(512).isEqualTo(long1.length / 512 * 512);
    assertThat(new String(long1, StandardCharsets.US_ASCII)).contains("path=values/ccc");
  }
}
