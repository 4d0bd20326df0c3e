// Benchmark (not a test): a bundle uploaded to the console the way the page sends it (8 MiB chunks, each a PUT at
// the server's offset), against copying the same file on the same disk (the limit), with the server's heap watched:
// a multi-GB upload must go to disk, never into memory. Run by bench/upload.sh with a 256 MiB heap.
import dev.airlock.installer.server.AdminPassword;
import dev.airlock.installer.server.AirlockServer;
import dev.airlock.kube.KubeTarget;
import dev.airlock.testing.kube.KubeBinaries;
import dev.airlock.testing.kube.LocalControlPlane;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public class UploadBench {
  static final String NS = "airlock-upload-bench";
  static final long CHUNK = 8L << 20;
  static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .followRedirects(HttpClient.Redirect.NEVER).build();

  public static void main(String[] args) throws Exception {
    long size = Long.parseLong(args[0]) << 20;
    Path work = Files.createTempDirectory("airlock-upload-bench");
    Path file = work.resolve("platform-big.airlock");
    byte[] block = new byte[1 << 20];
    new Random(7).nextBytes(block);
    try (var out = Files.newOutputStream(file)) {
      for (long n = 0; n < size; n += block.length) {
        out.write(block, 0, (int) Math.min(block.length, size - n));
      }
    }
    long c0 = System.nanoTime();
    Files.copy(file, work.resolve("copy.bin"));
    try (FileChannel ch = FileChannel.open(work.resolve("copy.bin"), StandardOpenOption.WRITE)) {
      ch.force(false); // the upload forces each chunk to disk too
    }
    double copySeconds = (System.nanoTime() - c0) / 1e9;
    Files.delete(work.resolve("copy.bin"));

    StringBuilder why = new StringBuilder();
    KubeBinaries bins = KubeBinaries.fromEnvironment(why).orElseThrow(() -> new IllegalStateException(why.toString()));
    try (LocalControlPlane cp = LocalControlPlane.start(bins)) {
      KubernetesClient client = cp.client();
      client.resource(new NamespaceBuilder().withNewMetadata().withName(NS).endMetadata().build()).create();
      String password = AdminPassword.ensure(client, NS);
      AirlockServer server = AirlockServer.start(client, new AirlockServer.Settings(NS, new InetSocketAddress(
          "127.0.0.1", 0), null, null, client.getConfiguration().getMasterUrl(), null, "airlock-registry",
          Duration.ofMinutes(60), Duration.ofDays(365)), Clock.systemUTC(), null);
      String base = "http://127.0.0.1:" + server.port();
      server.publicUrl(URI.create(base));
      server.consoleOperations(KubeTarget.reading(client, "bench"), dev.airlock.keys.TrustedRoots.of(
          java.util.List.of()), work.resolve("uploads"));
      HttpResponse<String> login = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/console/login/admin"))
          .header("Content-Type", "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers.ofString(
              "password=" + URLEncoder.encode(password, StandardCharsets.UTF_8))).build(),
          HttpResponse.BodyHandlers.ofString());
      String cookie = login.headers().firstValue("Set-Cookie").orElseThrow().split(";")[0];
      String page = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/console/upgrade")).header("Cookie", cookie)
          .build(), HttpResponse.BodyHandlers.ofString()).body();
      Matcher m = Pattern.compile("data-csrf=\"([^\"]+)\"").matcher(page);
      if (!m.find()) {
        throw new IllegalStateException("no upload form on the upgrade page");
      }
      String csrf = m.group(1);

      System.gc();
      for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
        p.resetPeakUsage();
      }
      long t0 = System.nanoTime();
      String begun = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/console/upgrade/uploads")).header("Cookie",
          cookie).header("X-Airlock-CSRF", csrf).header("Content-Type", "application/x-www-form-urlencoded")
          .POST(HttpRequest.BodyPublishers.ofString("name=platform-big.airlock&size=" + size + "&modified=1")).build(),
          HttpResponse.BodyHandlers.ofString()).body();
      Matcher id = Pattern.compile("\"id\":\"([0-9a-f]+)\"").matcher(begun);
      if (!id.find()) {
        throw new IllegalStateException("the upload did not start: " + begun);
      }
      for (long offset = 0; offset < size; offset += CHUNK) {
        long from = offset;
        long len = Math.min(CHUNK, size - offset);
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/console/upgrade/uploads/"
            + id.group(1) + "?offset=" + from)).header("Cookie", cookie).header("X-Airlock-CSRF", csrf)
            .PUT(HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofInputStream(() -> slice(file,
                from, len)), len)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
          throw new IllegalStateException("chunk at " + from + ": " + r.statusCode() + " " + r.body());
        }
      }
      double uploadSeconds = (System.nanoTime() - t0) / 1e9;
      long peak = 0;
      for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
        if (p.getType() == MemoryType.HEAP) {
          peak += p.getPeakUsage().getUsed();
        }
      }
      Path stored = Files.list(work.resolve("uploads")).filter(p -> p.toString().endsWith(".airlock")).findFirst()
          .orElseThrow(() -> new IllegalStateException("the upload is not complete on disk"));
      if (Files.mismatch(stored, file) != -1) {
        throw new IllegalStateException("the stored upload differs from the file sent");
      }
      double mib = size / 1048576.0;
      System.out.printf("file %.0f MiB; copy on the same disk %.1f s (%.0f MiB/s); console upload %.1f s (%.0f MiB/s)"
          + "%nupload time / copy time: %.2f%n", mib, copySeconds, mib / copySeconds, uploadSeconds,
          mib / uploadSeconds, uploadSeconds / copySeconds);
      System.out.printf("peak heap during the upload (server and client in this JVM): %.0f MiB = %.3f of the file "
          + "(max heap %d MiB)%n", peak / 1048576.0, peak / (double) size,
          Runtime.getRuntime().maxMemory() >> 20);
      server.close();
    } finally {
      dev.airlock.io.TempTrees.delete(work);
    }
  }

  static InputStream slice(Path file, long from, long len) {
    try {
      FileChannel ch = FileChannel.open(file);
      ch.position(from);
      return new java.io.FilterInputStream(Channels.newInputStream(ch)) {
        long left = len;

        @Override
        public int read(byte[] b, int off, int n) throws java.io.IOException {
          if (left <= 0) {
            return -1;
          }
          int r = super.read(b, off, (int) Math.min(n, left));
          if (r > 0) {
            left -= r;
          }
          return r;
        }
      };
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
