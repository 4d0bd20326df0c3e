package dev.airlock.installer.bundle;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.airlock.airgap.serve.BundleRegistry;
import dev.airlock.bundle.BundleVerifier;
import dev.airlock.bundle.format.BundleFile;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.installer.cli.Console;
import dev.airlock.installer.cli.OutputOptions;
import dev.airlock.installer.cli.TrustOptions;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.channels.Channels;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code airlock bundle serve}: the bundle's images as a read-only OCI registry, straight from the file. */
@Command(name = "serve", mixinStandardHelpOptions = true, description = {"Serve a bundle's images as a read-only OCI registry (distribution API) "
    + "straight from the file, without extracting it. Verifies the bundle first."})
public class ServeCommand implements java.util.concurrent.Callable<Integer> {

  @Parameters(index = "0", paramLabel = "FILE", description = "the bundle file")
  Path file;

  @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:5000",
      description = "address to listen on (default: ${DEFAULT-VALUE}; port 0 picks a free one)")
  String listen;

  @Option(names = "--skip-verify", description = "serve without verifying checksums first (the signature is "
      + "still checked; clients check blob digests themselves)")
  boolean skipVerify;

  @Mixin TrustOptions trust;
  @Mixin OutputOptions output;

  @Override
  public Integer call() throws Exception {
    Console console = new Console(output);
    InetSocketAddress address = parse(listen);
    BundleFile bundle = BundleFile.open(file);
    BundleVerifier verifier = new BundleVerifier(trust.roots(), Clock.systemUTC(), console);
    verifier.verify(bundle, !skipVerify);
    BundleRegistry registry = new BundleRegistry(bundle);
    HttpServer server;
    try {
      server = HttpServer.create(address, 64);
    } catch (IOException e) {
      throw new AirlockException(Kind.IO, "cannot listen on " + listen + ": " + e.getMessage(),
          "choose another --listen address or port", e);
    }
    server.setExecutor(Executors.newFixedThreadPool(16));
    server.createContext("/", exchange -> respond(registry, exchange));
    server.start();
    String url = "http://" + address.getHostString() + ":" + server.getAddress().getPort();
    console.result("serving " + file + " at " + url + " (read-only; Ctrl-C to stop)",
        Console.JSON.createObjectNode().put("file", file.toString()).put("url", url)
            .put("port", server.getAddress().getPort()));
    CountDownLatch stop = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      server.stop(0);
      bundle.close();
      stop.countDown();
    }));
    stop.await();
    return 0;
  }

  private static void respond(BundleRegistry registry, HttpExchange ex) throws IOException {
    try (ex) {
      Map<String, String> headers = new TreeMap<>();
      ex.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(Locale.ROOT), v.get(0)));
      String method = ex.getRequestMethod();
      BundleRegistry.Response r = registry.handle(method, ex.getRequestURI().getPath(), headers);
      r.headers().forEach((k, v) -> ex.getResponseHeaders().set(k, v));
      long length = r.contentLength();
      if (method.equals("HEAD")) {
        ex.getResponseHeaders().set("Content-Length", Long.toString(length));
        ex.sendResponseHeaders(r.status(), -1);
        return;
      }
      ex.sendResponseHeaders(r.status(), length == 0 ? -1 : length);
      if (length == 0) {
        return;
      }
      OutputStream body = ex.getResponseBody();
      if (r.entry() != null) {
        registry.file().transferTo(r.entry(), r.from(), r.length(), Channels.newChannel(body));
      } else {
        body.write(r.body());
      }
    } catch (IOException e) {
      // The client went away mid-transfer; nothing to clean up.
    }
  }

  private static InetSocketAddress parse(String listen) {
    int colon = listen.lastIndexOf(':');
    try {
      if (colon <= 0) {
        throw new NumberFormatException();
      }
      return new InetSocketAddress(listen.substring(0, colon), Integer.parseInt(listen.substring(colon + 1)));
    } catch (IllegalArgumentException e) {
      throw new AirlockException(Kind.BAD_INPUT, "--listen '" + listen + "' is not HOST:PORT",
          "e.g. --listen 127.0.0.1:5000");
    }
  }
}
