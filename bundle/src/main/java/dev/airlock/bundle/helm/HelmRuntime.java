package dev.airlock.bundle.helm;

import com.marcnuri.helm.Helm;
import dev.airlock.io.Cancellation;
import java.io.IOException;
import java.net.URL;
import java.util.Enumeration;

/**
 * Loads Helm's native library once per process, from airlock's cache ({@link CachedHelmLibrary}) instead of a fresh
 * ~100 MB copy in the temp directory on every run. Every use of helm-java goes through {@link #ensureLoaded()} first;
 * commands that need no Helm never touch it.
 */
public final class HelmRuntime {

  /** helm-java finds its native library through this service; ours is listed under {@link #OURS}. */
  static final String SERVICE = "META-INF/services/com.marcnuri.helm.jni.NativeLibrary";
  static final String OURS = "META-INF/airlock/helm-native-library";

  private static volatile boolean loaded;

  private HelmRuntime() {}

  /**
   * Loads the library if this process has not yet. helm-java picks the first service provider its context class
   * loader lists, and the jar order on a class path is not ours to choose, so the first load runs under a class
   * loader that lists only airlock's provider.
   */
  public static void ensureLoaded() {
    if (loaded) {
      return;
    }
    synchronized (HelmRuntime.class) {
      if (loaded) {
        return;
      }
      Thread t = Thread.currentThread();
      ClassLoader before = t.getContextClassLoader();
      t.setContextClassLoader(new OnlyAirlockProvider(HelmRuntime.class.getClassLoader()));
      try {
        Helm.version().call();
      } finally {
        t.setContextClassLoader(before);
      }
      primeSignals();
      loaded = true;
      // Helm's Go code takes SIGINT and SIGTERM (os/signal.Notify) the first time it renders a chart, and would
      // swallow Ctrl-C from then on: render a tiny chart now, then the CLI takes both signals back for good.
      Cancellation.nativeLibraryLoaded();
    }
  }

  private static void primeSignals() {
    java.nio.file.Path dir = null;
    try {
      dir = java.nio.file.Files.createTempDirectory("airlock-helm-prime");
      java.nio.file.Files.writeString(dir.resolve("Chart.yaml"), "apiVersion: v2\nname: prime\nversion: 0.0.1\n");
      Helm.template(dir.toString()).call();
    } catch (IOException | RuntimeException e) {
      // only signal handling is at stake; real Helm calls report real problems
    } finally {
      if (dir != null) {
        dev.airlock.io.TempTrees.delete(dir);
      }
    }
  }

  /** Lists airlock's provider as the only implementation of helm-java's native-library service. */
  private static final class OnlyAirlockProvider extends ClassLoader {
    OnlyAirlockProvider(ClassLoader parent) {
      super(parent);
    }

    @Override
    public Enumeration<URL> getResources(String name) throws IOException {
      return super.getResources(SERVICE.equals(name) ? OURS : name);
    }
  }
}
