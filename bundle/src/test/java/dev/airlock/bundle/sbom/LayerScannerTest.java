package dev.airlock.bundle.sbom;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;

class LayerScannerTest {

  static final String STATUS = """
      Package: hostname
      Status: install ok installed
      Architecture: amd64
      Version: 3.23+nmu1
      Description: utility to set/show the host name
       continued description: Version: 9

      Package: gone
      Status: deinstall ok config-files
      Architecture: amd64
      Version: 1.0

      Package: tzdata
      Status: install ok installed
      Architecture: all
      Version: 2024a-0+deb12u1
      """;

  static final CatalogueLimits LIMITS = CatalogueLimits.defaults();

  @Test
  void dpkgStatus_listsInstalledPackagesWithDebianPurls() {
    LayerFindings f = scan(gzipTar(Map.of("var/lib/dpkg/status", bytes(STATUS))), LIMITS);
    ImageCatalogue.PlatformPackages p = ImageCatalogue.merge("linux/amd64", List.of(f));
    assertThat(p.packages()).extracting(CataloguedPackage::purl).containsExactly(
        "pkg:deb/debian/hostname@3.23%2Bnmu1?arch=amd64", "pkg:deb/debian/tzdata@2024a-0%2Bdeb12u1?arch=all");
    assertThat(p.notes()).isEmpty();
  }

  @Test
  void osRelease_namesTheDistribution_andApkIsRead() {
    LayerFindings f = scan(gzipTar(Map.of("etc/os-release", bytes("NAME=\"Alpine Linux\"\nID=alpine\n"),
        "lib/apk/db/installed", bytes("C:Q1abc=\nP:musl\nV:1.2.5-r0\nA:x86_64\n\nP:busybox\nV:1.36.1-r29\n"
            + "A:x86_64\n"))), LIMITS);
    assertThat(ImageCatalogue.merge("", List.of(f)).packages()).extracting(CataloguedPackage::purl)
        .containsExactly("pkg:apk/alpine/busybox@1.36.1-r29?arch=x86_64", "pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64");
  }

  @Test
  void pathTraversalNames_areRefusedWithANote() {
    Map<String, byte[]> files = new LinkedHashMap<>();
    files.put("../../var/lib/dpkg/status", bytes(STATUS));
    files.put("var/../../../etc/passwd", bytes("root:x:0:0"));
    LayerFindings f = scan(gzipTar(files), LIMITS);
    assertThat(f.files()).isEmpty();
    assertThat(f.notes()).hasSize(2).allMatch(n -> n.contains("path traversal") && n.contains("sha256:layer"));
  }

  @Test
  void oversizedStatusFile_isSkippedWithANote() {
    CatalogueLimits small = new CatalogueLimits(1024, 1024, 1 << 20, 64, 1 << 20, Duration.ofMinutes(1));
    byte[] big = (STATUS + "\n".repeat(4096)).getBytes(StandardCharsets.UTF_8);
    LayerFindings f = scan(gzipTar(Map.of("var/lib/dpkg/status", big)), small);
    assertThat(f.files()).isEmpty();
    assertThat(f.notes()).singleElement().asString().contains("skipped var/lib/dpkg/status")
        .contains(big.length + " bytes is over the 1024-byte limit");
  }

  @Test
  void gzipBomb_stopsAtTheExpansionBudgetWithANote() {
    byte[] zeros = new byte[64 << 20];
    Map<String, byte[]> files = new LinkedHashMap<>();
    files.put("zeros", zeros);
    files.put("var/lib/dpkg/status", bytes(STATUS));
    byte[] layer = gzipTar(files);
    CatalogueLimits tight = new CatalogueLimits(16 << 20, 1 << 20, 1 << 20, 4, 1 << 20, Duration.ofMinutes(1));
    LayerFindings f = scan(layer, tight);
    assertThat(f.bytes()).isLessThan(8L << 20);
    assertThat(f.files()).isEmpty();
    assertThat(f.notes()).singleElement().asString().contains("expands beyond").contains("may miss packages");
  }

  @Test
  void jarWithMavenMetadata_isFound_butNotAJarInsideIt() throws IOException {
    byte[] inner = jar(Map.of("META-INF/maven/org.inner/nested/pom.properties",
        bytes("groupId=org.inner\nartifactId=nested\nversion=9.9\n")));
    byte[] app = jar(Map.of("META-INF/maven/com.acme/widget/pom.properties",
        bytes("#Generated\ngroupId=com.acme\nartifactId=widget\nversion=1.2.3\n"),
        "BOOT-INF/lib/nested-9.9.jar", inner, "com/acme/Widget.class", new byte[100]));
    LayerFindings f = scan(gzipTar(Map.of("opt/app/widget.jar", app)), LIMITS);
    ImageCatalogue.PlatformPackages p = ImageCatalogue.merge("", List.of(f));
    assertThat(p.packages()).extracting(CataloguedPackage::purl).containsExactly("pkg:maven/com.acme/widget@1.2.3");
    assertThat(p.packages().get(0).path()).isEqualTo("opt/app/widget.jar");
  }

  @Test
  void zipBombJar_isLeftWithANote_andTheLayerGoesOn() throws IOException {
    byte[] bomb = jar(Map.of("META-INF/a-zeros.bin", new byte[32 << 20],
        "META-INF/maven/com.acme/late/pom.properties", bytes("groupId=com.acme\nartifactId=late\nversion=1\n")));
    Map<String, byte[]> files = new LinkedHashMap<>();
    files.put("app/bomb.jar", bomb);
    files.put("var/lib/dpkg/status", bytes(STATUS));
    CatalogueLimits tight = new CatalogueLimits(16 << 20, 1 << 20, 1 << 20, 64, 1 << 30, Duration.ofMinutes(1));
    LayerFindings f = scan(gzipTar(files), tight);
    assertThat(f.notes()).singleElement().asString().contains("left app/bomb.jar").contains("zip bomb");
    assertThat(f.files()).containsOnlyKeys("var/lib/dpkg/status");
  }

  @Test
  void pythonDistInfo_isFound() {
    LayerFindings f = scan(gzipTar(Map.of("usr/lib/python3/dist-packages/Foo_Bar-2.0.dist-info/METADATA",
        bytes("Metadata-Version: 2.1\nName: Foo_Bar\nVersion: 2.0\n\nVersion: 3\n"))), LIMITS);
    assertThat(ImageCatalogue.merge("", List.of(f)).packages()).extracting(CataloguedPackage::purl)
        .containsExactly("pkg:pypi/foo-bar@2.0");
  }

  @Test
  void laterLayerReplacesTheDatabase_andWhiteoutsDeleteLowerFiles() throws IOException {
    LayerFindings base = scan(gzipTar(Map.of("var/lib/dpkg/status", bytes(STATUS),
        "opt/a.jar", jar(Map.of("META-INF/maven/g/a/pom.properties", bytes("groupId=g\nartifactId=a\nversion=1\n"))),
        "opt/lib/b.jar", jar(Map.of("META-INF/maven/g/b/pom.properties",
            bytes("groupId=g\nartifactId=b\nversion=1\n"))))), LIMITS);
    LayerFindings upper = scan(gzipTar(Map.of("var/lib/dpkg/status",
        bytes("Package: hostname\nStatus: install ok installed\nArchitecture: amd64\nVersion: 3.24\n"),
        "opt/.wh.a.jar", new byte[0], "opt/lib/.wh..wh..opq", new byte[0])), LIMITS);
    ImageCatalogue.PlatformPackages p = ImageCatalogue.merge("", List.of(base, upper));
    assertThat(p.packages()).extracting(CataloguedPackage::purl)
        .containsExactly("pkg:deb/debian/hostname@3.24?arch=amd64");
    assertThat(ImageCatalogue.merge("", List.of(base)).packages()).hasSize(4);
  }

  @Test
  void notATar_becomesANote() {
    LayerFindings f = scan("this is no tar at all, just some text that goes on".repeat(20).getBytes(), LIMITS);
    assertThat(f.files()).isEmpty();
    assertThat(f.notes()).singleElement().asString().contains("not a readable tar");
  }

  static LayerFindings scan(byte[] layer, CatalogueLimits limits) {
    return LayerScanner.scan(new ByteArrayInputStream(layer), layer.length, "sha256:layer", limits);
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static byte[] gzipTar(Map<String, byte[]> files) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (OutputStream gz = new GZIPOutputStream(out); TarArchiveOutputStream tar = new TarArchiveOutputStream(gz)) {
      tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
      for (Map.Entry<String, byte[]> e : files.entrySet()) {
        TarArchiveEntry t = new TarArchiveEntry(e.getKey(), true);
        t.setSize(e.getValue().length);
        tar.putArchiveEntry(t);
        tar.write(e.getValue());
        tar.closeArchiveEntry();
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return out.toByteArray();
  }

  /** A jar written with java.util.jar, entries in the map's order. */
  static byte[] jar(Map<String, byte[]> entries) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Manifest mf = new Manifest();
    mf.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    try (JarOutputStream jar = new JarOutputStream(out, mf)) {
      for (Map.Entry<String, byte[]> e : new java.util.TreeMap<>(entries).entrySet()) {
        jar.putNextEntry(new JarEntry(e.getKey()));
        jar.write(e.getValue());
        jar.closeEntry();
      }
    }
    return out.toByteArray();
  }

}
