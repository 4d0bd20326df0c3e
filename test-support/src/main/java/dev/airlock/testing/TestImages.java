package dev.airlock.testing;

import com.google.cloud.tools.jib.api.Containerizer;
import com.google.cloud.tools.jib.api.ImageReference;
import com.google.cloud.tools.jib.api.Jib;
import com.google.cloud.tools.jib.api.JibContainer;
import com.google.cloud.tools.jib.api.JibContainerBuilder;
import com.google.cloud.tools.jib.api.RegistryImage;
import com.google.cloud.tools.jib.api.buildplan.AbsoluteUnixPath;
import com.google.cloud.tools.jib.api.buildplan.FileEntriesLayer;
import com.google.cloud.tools.jib.api.buildplan.Platform;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Builds test images with Jib core and pushes them to a {@link RegistryServer}: layers of seeded random content (the
 * same seed and size give the same layer, so images can share layers), single-platform images and multi-arch
 * indexes.
 */
public final class TestImages {

  /** A layer of {@code size} random bytes from {@code seed}; equal specs make identical layers. */
  public record Layer(long seed, int size) {}

  /** A pushed image: its reference in the registry and manifest digest. */
  public record Pushed(String reference, String digest) {}

  private final RegistryServer registry;
  private final Path work;
  private final HttpClient http;

  public TestImages(RegistryServer registry, Path work) {
    this.registry = registry;
    this.work = work;
    this.http = HttpClient.newBuilder().sslContext(sslContext(registry.caFile())).build();
  }

  /** Pushes a single-platform image {@code repository:tag} made of {@code layers}. */
  public Pushed push(String repositoryAndTag, List<Layer> layers, String platform) {
    String ref = registry.host() + "/" + repositoryAndTag;
    try {
      JibContainerBuilder b = Jib.fromScratch();
      String[] p = platform.split("/");
      b.setPlatforms(Set.of(new Platform(p[1], p[0])));
      int i = 0;
      for (Layer l : layers) {
        Path file = work.resolve("layer-" + l.seed() + "-" + l.size());
        if (!Files.exists(file)) {
          Files.createDirectories(work);
          writeRandom(file, l);
        }
        b.addFileEntriesLayer(FileEntriesLayer.builder().setName("l" + i)
            .addEntry(file, AbsoluteUnixPath.get("/data/layer-" + l.seed())).build());
        i++;
      }
      b.setEntrypoint("/data/run");
      RegistryImage target = RegistryImage.named(ImageReference.parse(ref));
      if (registry.username() != null) {
        target.addCredential(registry.username(), registry.password());
      }
      Containerizer c = Containerizer.to(target)
          .setAllowInsecureRegistries(true)
          .setApplicationLayersCache(work.resolve("jib-cache"))
          .setBaseImageLayersCache(work.resolve("jib-cache"))
          .setToolName("airlock-tests");
      JibContainer result = b.containerize(c);
      return new Pushed(ref, result.getDigest().toString());
    } catch (Exception e) {
      throw new IllegalStateException("cannot push test image " + ref + ": " + e.getMessage(), e);
    }
  }

  /**
   * Pushes a single-platform image {@code repository:tag} of one layer holding {@code files}: absolute path in the
   * image to the file on disk whose bytes it gets.
   */
  public Pushed pushFiles(String repositoryAndTag, Map<String, Path> files, String platform) {
    String ref = registry.host() + "/" + repositoryAndTag;
    try {
      JibContainerBuilder b = Jib.fromScratch();
      String[] p = platform.split("/");
      b.setPlatforms(Set.of(new Platform(p[1], p[0])));
      FileEntriesLayer.Builder layer = FileEntriesLayer.builder().setName("files");
      files.forEach((path, file) -> layer.addEntry(file, AbsoluteUnixPath.get(path)));
      b.addFileEntriesLayer(layer.build());
      RegistryImage target = RegistryImage.named(ImageReference.parse(ref));
      if (registry.username() != null) {
        target.addCredential(registry.username(), registry.password());
      }
      Containerizer c = Containerizer.to(target)
          .setAllowInsecureRegistries(true)
          .setApplicationLayersCache(work.resolve("jib-cache"))
          .setBaseImageLayersCache(work.resolve("jib-cache"))
          .setToolName("airlock-tests");
      return new Pushed(ref, b.containerize(c).getDigest().toString());
    } catch (Exception e) {
      throw new IllegalStateException("cannot push test image " + ref + ": " + e.getMessage(), e);
    }
  }

  /** Uploads a blob into {@code repository} (one monolithic PUT); returns its digest. */
  public String pushBlob(String repository, byte[] bytes) {
    String digest = "sha256:" + sha256(bytes);
    HttpRequest.Builder b = HttpRequest.newBuilder(uri("/v2/" + repository + "/blobs/uploads/"))
        .POST(HttpRequest.BodyPublishers.noBody());
    auth(b);
    try {
      HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 202) {
        throw new IllegalStateException("POST blob upload: HTTP " + r.statusCode() + " " + r.body());
      }
      String location = r.headers().firstValue("Location").orElseThrow();
      URI put = location.startsWith("http") ? URI.create(location) : uri(location);
      String sep = put.getQuery() == null ? "?" : "&";
      HttpRequest.Builder pb = HttpRequest.newBuilder(URI.create(put + sep + "digest=" + digest))
          .header("Content-Type", "application/octet-stream").PUT(HttpRequest.BodyPublishers.ofByteArray(bytes));
      auth(pb);
      HttpResponse<String> pr = http.send(pb.build(), HttpResponse.BodyHandlers.ofString());
      if (pr.statusCode() != 201) {
        throw new IllegalStateException("PUT blob " + digest + ": HTTP " + pr.statusCode() + " " + pr.body());
      }
      return digest;
    } catch (IOException | InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Writes a manifest at {@code repository:reference}; returns its digest. */
  public String putManifest(String repository, String reference, byte[] bytes, String mediaType) {
    put("/v2/" + repository + "/manifests/" + reference, bytes, mediaType);
    return "sha256:" + sha256(bytes);
  }

  /** The manifest at {@code repository:reference}, or null when the registry has none. */
  public byte[] manifestOrNull(String repository, String reference) {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri("/v2/" + repository + "/manifests/" + reference)).header(
        "Accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json");
    auth(b);
    try {
      HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
      return r.statusCode() == 200 ? r.body() : null;
    } catch (IOException | InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Pushes one image per platform and then an OCI index over them at {@code repository:tag}. Returns the index.
   */
  public Pushed pushMultiArch(String repository, String tag, Map<String, List<Layer>> layersByPlatform) {
    StringBuilder manifests = new StringBuilder();
    for (Map.Entry<String, List<Layer>> e : layersByPlatform.entrySet()) {
      String plat = e.getKey();
      Pushed one = push(repository + ":" + tag + "-" + plat.replace('/', '-'), e.getValue(), plat);
      byte[] m = get("/v2/" + repository + "/manifests/" + one.digest());
      String[] p = plat.split("/");
      if (manifests.length() > 0) {
        manifests.append(',');
      }
      manifests.append("{\"mediaType\":\"").append(mediaTypeOf(m)).append("\",\"digest\":\"").append(one.digest())
          .append("\",\"size\":").append(m.length).append(",\"platform\":{\"os\":\"").append(p[0])
          .append("\",\"architecture\":\"").append(p[1]).append("\"}}");
    }
    String index = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":["
        + manifests + "]}";
    byte[] bytes = index.getBytes(StandardCharsets.UTF_8);
    put("/v2/" + repository + "/manifests/" + tag, bytes, "application/vnd.oci.image.index.v1+json");
    return new Pushed(registry.host() + "/" + repository + ":" + tag, "sha256:" + sha256(bytes));
  }

  private static String mediaTypeOf(byte[] manifest) {
    String s = new String(manifest, StandardCharsets.UTF_8);
    return s.contains("application/vnd.docker.distribution.manifest.v2+json")
        ? "application/vnd.docker.distribution.manifest.v2+json" : "application/vnd.oci.image.manifest.v1+json";
  }

  private byte[] get(String path) {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).header("Accept",
        "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json");
    auth(b);
    try {
      HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
      if (r.statusCode() != 200) {
        throw new IllegalStateException("GET " + path + ": HTTP " + r.statusCode());
      }
      return r.body();
    } catch (IOException | InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }

  private void put(String path, byte[] body, String contentType) {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).header("Content-Type", contentType)
        .PUT(HttpRequest.BodyPublishers.ofByteArray(body));
    auth(b);
    try {
      HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 201) {
        throw new IllegalStateException("PUT " + path + ": HTTP " + r.statusCode() + " " + r.body());
      }
    } catch (IOException | InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }

  private URI uri(String path) {
    return URI.create((registry.tls() ? "https://" : "http://") + registry.host() + path);
  }

  private void auth(HttpRequest.Builder b) {
    if (registry.username() != null) {
      b.header("Authorization", "Basic " + Base64.getEncoder().encodeToString(
          (registry.username() + ":" + registry.password()).getBytes(StandardCharsets.UTF_8)));
    }
  }

  private static void writeRandom(Path file, Layer l) throws IOException {
    Random random = new Random(l.seed());
    byte[] buf = new byte[64 * 1024];
    try (OutputStream out = Files.newOutputStream(file)) {
      long left = l.size();
      while (left > 0) {
        random.nextBytes(buf);
        int n = (int) Math.min(buf.length, left);
        out.write(buf, 0, n);
        left -= n;
      }
    }
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static SSLContext sslContext(Path ca) {
    try {
      if (ca == null) {
        return SSLContext.getDefault();
      }
      KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
      ks.load(null, null);
      try (InputStream in = Files.newInputStream(ca)) {
        ks.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
      }
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(ks);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, tmf.getTrustManagers(), null);
      return ctx;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** Convenience: layers by platform in insertion order. */
  public static Map<String, List<Layer>> platforms(Object... platformAndLayers) {
    Map<String, List<Layer>> m = new LinkedHashMap<>();
    for (int i = 0; i < platformAndLayers.length; i += 2) {
      @SuppressWarnings("unchecked")
      List<Layer> layers = (List<Layer>) platformAndLayers[i + 1];
      m.put((String) platformAndLayers[i], new ArrayList<>(layers));
    }
    return m;
  }
}
