package dev.airlock.airgap.serve;

import static org.assertj.core.api.Assertions.assertThat;

import dev.airlock.bundle.format.BundleFile;
import dev.airlock.bundle.format.BundleLayout;
import dev.airlock.bundle.format.TarHeader;
import dev.airlock.oci.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The registry protocol over a small hand-made bundle (one image: manifest, config, one layer). */
class BundleRegistryTest {

  @TempDir Path dir;
  byte[] layer = new byte[10_000];
  Digest layerDigest;
  Digest manifestDigest;
  BundleFile file;
  BundleRegistry registry;

  @BeforeEach
  void bundle() throws IOException {
    new Random(3).nextBytes(layer);
    layerDigest = Digest.of(layer);
    byte[] config = "{\"architecture\":\"amd64\",\"os\":\"linux\"}".getBytes(StandardCharsets.UTF_8);
    byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
        + "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" + Digest.of(config)
        + "\",\"size\":" + config.length + "},\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar"
        + "+gzip\",\"digest\":\"" + layerDigest + "\",\"size\":" + layer.length + "}]}")
        .getBytes(StandardCharsets.UTF_8);
    manifestDigest = Digest.of(manifest);
    String doc = "{\"apiVersion\":\"airlock.dev/v1alpha1\",\"kind\":\"BundleManifest\",\"name\":\"t\",\"version\":"
        + "\"1.0.0\",\"created\":\"2026-11-22T00:00:00Z\",\"builder\":{\"name\":\"airlock\",\"version\":\"test\"},"
        + "\"components\":[],\"images\":[{\"ref\":\"docker.io/library/app:1.0\",\"digest\":\"" + manifestDigest
        + "\",\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"platforms\":[\"linux/amd64\"],"
        + "\"size\":1,\"blobs\":[\"" + manifestDigest + "\",\"" + Digest.of(config) + "\",\"" + layerDigest + "\"]}],"
        + "\"totals\":{\"imageBytes\":1,\"uniqueBytes\":1,\"blobs\":3}}";
    Map<String, byte[]> entries = new LinkedHashMap<>();
    entries.put(BundleLayout.MANIFEST, doc.getBytes(StandardCharsets.UTF_8));
    entries.put(BundleLayout.CHECKSUMS, new byte[0]);
    entries.put(BundleLayout.SIGNATURE, "{}".getBytes(StandardCharsets.UTF_8));
    entries.put(BundleLayout.blobPath(manifestDigest), manifest);
    entries.put(BundleLayout.blobPath(Digest.of(config)), config);
    entries.put(BundleLayout.blobPath(layerDigest), layer);
    Path p = dir.resolve("t.airlock");
    try (OutputStream out = Files.newOutputStream(p)) {
      for (Map.Entry<String, byte[]> e : entries.entrySet()) {
        out.write(TarHeader.header(e.getKey(), e.getValue().length, 0));
        out.write(e.getValue());
        out.write(new byte[(512 - e.getValue().length % 512) % 512]);
      }
      out.write(new byte[1024]);
    }
    file = BundleFile.open(p);
    registry = new BundleRegistry(file);
  }

  @AfterEach
  void close() {
    file.close();
  }

  private BundleRegistry.Response get(String path, String range) {
    return registry.handle("GET", path, range == null ? Map.of() : Map.of("range", range));
  }

  private byte[] body(BundleRegistry.Response r) throws IOException {
    if (r.entry() == null) {
      return r.body();
    }
    try (InputStream in = file.open(r.entry(), r.from(), r.length())) {
      return in.readAllBytes();
    }
  }

  @Test
  void manifestByTagAndDigest_withAndWithoutRegistryHost() throws IOException {
    for (String path : new String[] {"/v2/library/app/manifests/1.0", "/v2/docker.io/library/app/manifests/1.0",
        "/v2/library/app/manifests/" + manifestDigest}) {
      BundleRegistry.Response r = get(path, null);
      assertThat(r.status()).as(path).isEqualTo(200);
      assertThat(r.headers()).containsEntry("Docker-Content-Digest", manifestDigest.toString())
          .containsEntry("Content-Type", "application/vnd.oci.image.manifest.v1+json");
      assertThat(Digest.of(body(r))).isEqualTo(manifestDigest);
    }
  }

  @Test
  void ranges_fromTo_openEnded_suffix_andUnsatisfiable() throws IOException {
    String path = "/v2/library/app/blobs/" + layerDigest;
    BundleRegistry.Response whole = get(path, null);
    assertThat(whole.status()).isEqualTo(200);
    assertThat(body(whole)).isEqualTo(layer);
    BundleRegistry.Response mid = get(path, "bytes=100-199");
    assertThat(mid.status()).isEqualTo(206);
    assertThat(mid.headers()).containsEntry("Content-Range", "bytes 100-199/10000");
    assertThat(body(mid)).isEqualTo(java.util.Arrays.copyOfRange(layer, 100, 200));
    assertThat(body(get(path, "bytes=9990-"))).isEqualTo(java.util.Arrays.copyOfRange(layer, 9990, 10000));
    assertThat(body(get(path, "bytes=-5"))).isEqualTo(java.util.Arrays.copyOfRange(layer, 9995, 10000));
    assertThat(body(get(path, "bytes=9000-20000"))).hasSize(1000);
    BundleRegistry.Response beyond = get(path, "bytes=10000-");
    assertThat(beyond.status()).isEqualTo(416);
    assertThat(beyond.headers()).containsEntry("Content-Range", "bytes */10000");
    assertThat(get(path, "lines=1-2").status()).isEqualTo(416);
  }

  @Test
  void unknownThings_are404WithRegistryErrorCodes() {
    assertThat(new String(get("/v2/library/other/manifests/1.0", null).body())).contains("NAME_UNKNOWN");
    assertThat(new String(get("/v2/library/app/manifests/2.0", null).body())).contains("MANIFEST_UNKNOWN");
    assertThat(new String(get("/v2/library/app/blobs/sha256:" + "0".repeat(64), null).body()))
        .contains("BLOB_UNKNOWN");
    // A layer is a blob, not a manifest.
    assertThat(get("/v2/library/app/manifests/" + layerDigest, null).status()).isEqualTo(404);
    assertThat(get("/v2/library/app/blobs/latest", null).status()).isEqualTo(400);
  }

  @Test
  void catalogTagsHeadAndWrites() {
    assertThat(new String(get("/v2/_catalog", null).body())).contains("\"library/app\"", "\"docker.io/library/app\"");
    assertThat(new String(get("/v2/library/app/tags/list", null).body())).contains("\"tags\":[\"1.0\"]");
    assertThat(get("/v2/", null).status()).isEqualTo(200);
    BundleRegistry.Response head = registry.handle("HEAD", "/v2/library/app/blobs/" + layerDigest, Map.of());
    assertThat(head.status()).isEqualTo(200);
    assertThat(head.contentLength()).isEqualTo(10_000);
    assertThat(registry.handle("PUT", "/v2/library/app/manifests/1.0", Map.of()).status()).isEqualTo(405);
    assertThat(registry.handle("DELETE", "/v2/library/app/blobs/" + layerDigest, Map.of()).status()).isEqualTo(405);
  }
}
