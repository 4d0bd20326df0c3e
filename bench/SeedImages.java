// Seeds a registry with N images for benchmarks, with one layer shared by every image and the rest unique.
// Run by the bench scripts with the bundle module's classpath:
//   java -cp CLASSPATH bench/SeedImages.java HOST PREFIX IMAGES SHARED_MIB UNIQUE_LAYERS UNIQUE_MIB [SEED [TAG [OFFSET]]]
// The shared layer depends on SEED only; unique layers also on OFFSET, so a later call with the same SEED and another
// OFFSET makes images that differ from the first ones by their unique layers alone.
// Layers are gzip streams of random bytes written with stored (uncompressed) deflate blocks: valid gzip, fast to
// make, and as incompressible as real layers.
import dev.airlock.oci.Digest;
import dev.airlock.oci.RegistryClient;
import dev.airlock.oci.RegistryOptions;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;

public class SeedImages {
  record Blob(Path file, Digest digest, long size) {}

  public static void main(String[] a) throws Exception {
    String host = a[0];
    String prefix = a[1];
    int images = Integer.parseInt(a[2]);
    int sharedMib = Integer.parseInt(a[3]);
    int uniqueLayers = Integer.parseInt(a[4]);
    int uniqueMib = Integer.parseInt(a[5]);
    long seed = a.length > 6 ? Long.parseLong(a[6]) : 1;
    String tag = a.length > 7 ? a[7] : "1.0";
    long offset = a.length > 8 ? Long.parseLong(a[8]) : 0;
    RegistryClient client = new RegistryClient(RegistryOptions.defaults().withInsecureHosts(Set.of(host)));
    Path work = Files.createTempDirectory("seed");
    Blob shared = layer(work, seed * 1000, sharedMib);
    for (int i = 0; i < images; i++) {
      String repo = prefix + "/app" + i;
      List<Blob> layers = new ArrayList<>();
      layers.add(shared);
      for (int l = 0; l < uniqueLayers; l++) {
        layers.add(layer(work, seed * 1000 + offset + i * 10 + l + 1, uniqueMib));
      }
      StringBuilder diffIds = new StringBuilder();
      StringBuilder descs = new StringBuilder();
      for (Blob b : layers) {
        client.pushBlob(host, repo, b.digest(), b.size(), () -> open(b.file()), prefix + "/app0");
        diffIds.append(diffIds.length() == 0 ? "" : ",").append("\"").append(b.digest()).append("\"");
        descs.append(descs.length() == 0 ? "" : ",").append("{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"")
            .append(b.digest()).append("\",\"size\":").append(b.size()).append("}");
      }
      byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":["
          + diffIds + "]},\"config\":{}}").getBytes(StandardCharsets.UTF_8);
      Digest cd = Digest.of(config);
      client.pushBlob(host, repo, cd, config.length, () -> new ByteArrayInputStream(config), null);
      String manifest = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
          + "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" + cd
          + "\",\"size\":" + config.length + "},\"layers\":[" + descs + "]}";
      client.putManifest(host, repo, tag, manifest.getBytes(StandardCharsets.UTF_8),
          "application/vnd.oci.image.manifest.v1+json");
      for (Blob b : layers.subList(1, layers.size())) {
        Files.delete(b.file());
      }
      System.err.println("seeded " + host + "/" + repo + ":" + tag);
    }
  }

  static InputStream open(Path p) {
    try {
      return Files.newInputStream(p);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static Blob layer(Path work, long seed, int mib) throws Exception {
    Path f = work.resolve("layer-" + seed);
    Random r = new Random(seed);
    byte[] buf = new byte[1 << 20];
    try (GZIPOutputStream out = new GZIPOutputStream(Files.newOutputStream(f), 1 << 16) {
      { def.setLevel(Deflater.NO_COMPRESSION); }
    }) {
      for (int i = 0; i < mib; i++) {
        r.nextBytes(buf);
        out.write(buf);
      }
    }
    var sha = Digest.sha256();
    try (InputStream in = Files.newInputStream(f)) {
      int n;
      while ((n = in.read(buf)) > 0) {
        sha.update(buf, 0, n);
      }
    }
    return new Blob(f, Digest.of(sha), Files.size(f));
  }
}
