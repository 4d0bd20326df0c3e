package dev.airlock.testing;

import dev.airlock.testing.TestImages.Layer;
import java.nio.file.Path;
import java.util.List;

/**
 * Small stand-ins for the five upstream images of {@code examples/platform}, pushed under {@code hub/} so that
 * {@code --mirror docker.io=HOST/hub} builds the example offline. {@link #BASE} is shared by every image, and the
 * registry image is a two-platform index.
 */
public final class ExampleImages {

  public static final Layer BASE = new Layer(1, 300_000);
  public static final Layer ALPINE = new Layer(2, 120_000);

  /** Upstream references of examples/platform, as the bundle records them. */
  public static final List<String> REFS = List.of("docker.io/library/alpine:3.20", "docker.io/library/busybox:1.36",
      "docker.io/library/registry:2.8.3", "docker.io/moby/buildkit:v0.16.0", "docker.io/library/nginx:1.27-alpine");

  private ExampleImages() {}

  /** The image a newer example version moves the controller to: alpine 3.20 with its top layer changed. */
  public static final String NEXT_ALPINE = "docker.io/library/alpine:3.21";

  /** Pushes {@link #NEXT_ALPINE} (base layer shared, one new layer) under {@code hub/}. */
  public static void seedNext(RegistryServer registry, Path work) {
    new TestImages(registry, work).push("hub/library/alpine:3.21", List.of(BASE, new Layer(9, 120_000)),
        "linux/amd64");
  }

  /** The JRE base a spec's {@code server.baseImage} names in tests (a stand-in: it holds no Java). */
  public static final String JRE_BASE = "docker.io/library/eclipse-temurin:17-jre";

  /** Pushes a stand-in for {@link #JRE_BASE} under {@code hub/}: two layers, linux/amd64. */
  public static TestImages.Pushed seedJreBase(RegistryServer registry, Path work) {
    return new TestImages(registry, work).push("hub/library/eclipse-temurin:17-jre",
        List.of(BASE, new Layer(10, 200_000)), "linux/amd64");
  }

  public static void seed(RegistryServer registry, Path work) {
    TestImages images = new TestImages(registry, work);
    images.push("hub/library/alpine:3.20", List.of(BASE, ALPINE), "linux/amd64");
    images.push("hub/library/busybox:1.36", List.of(BASE, new Layer(3, 50_000)), "linux/amd64");
    images.pushMultiArch("hub/library/registry", "2.8.3", TestImages.platforms(
        "linux/amd64", List.of(BASE, new Layer(4, 80_000)),
        "linux/arm64", List.of(new Layer(5, 90_000), new Layer(6, 70_000))));
    images.push("hub/moby/buildkit:v0.16.0", List.of(BASE, new Layer(7, 150_000)), "linux/amd64");
    images.push("hub/library/nginx:1.27-alpine", List.of(BASE, ALPINE, new Layer(8, 60_000)), "linux/amd64");
  }
}
