package dev.airlock.testing;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Starts a local registry on loopback seeded with small stand-ins for the example platform's images (under
 * {@code hub/}), prints {@code MIRROR 127.0.0.1:PORT} and runs until killed. Lets the example be bundled on a machine
 * without internet access: {@code --mirror docker.io=127.0.0.1:PORT/hub}. The stand-ins are random test layers, not
 * the real upstream images.
 */
public final class DemoMirror {

  private DemoMirror() {}

  public static void main(String[] args) throws Exception {
    Path work = Files.createTempDirectory("airlock-demo-mirror");
    try (RegistryServer registry = RegistryServer.startPlain()) {
      try {
        ExampleImages.seed(registry, work);
      } finally {
        // The stand-ins are in the registry now; their build files are not needed.
        try (var walk = Files.walk(work)) {
          walk.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
      }
      System.out.println("MIRROR " + registry.host());
      System.out.flush();
      Runtime.getRuntime().addShutdownHook(new Thread(registry::close));
      Thread.sleep(Long.MAX_VALUE);
    }
  }
}
