package dev.airlock.bundle;

import static org.assertj.core.api.Assertions.assertThat;

import dev.airlock.bundle.spec.BundleSpec;
import dev.airlock.bundle.spec.ChartSource;
import dev.airlock.oci.ImageReference;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChartsTest {

  @Test
  void imagesIn_findsEveryContainerKindInEveryWorkload() {
    String manifests = """
        apiVersion: batch/v1
        kind: CronJob
        spec:
          jobTemplate:
            spec:
              template:
                spec:
                  initContainers: [{name: i, image: "busybox:1.36"}]
                  containers: [{name: c, image: "ghcr.io/acme/cron:2"}]
        ---
        apiVersion: v1
        kind: Pod
        spec:
          containers: [{name: a, image: nginx}]
          ephemeralContainers: [{name: debug, image: "registry.corp:5000/tools/debug@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}]
        ---
        apiVersion: v1
        kind: ConfigMap
        data: {image: "not-a-container"}
        """;
    assertThat(Charts.imagesIn(manifests, "test")).extracting(ImageReference::toString).containsExactlyInAnyOrder(
        "docker.io/library/busybox:1.36", "ghcr.io/acme/cron:2", "docker.io/library/nginx:latest",
        "registry.corp:5000/tools/debug@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  }

  @Test
  void chartWithoutTemplates_rendersNoImages(@TempDir Path dir) throws IOException {
    Path chart = dir.resolve("empty");
    Files.createDirectories(chart);
    Files.writeString(chart.resolve("Chart.yaml"), "apiVersion: v2\nname: empty\nversion: 0.1.0\n");
    Charts.Packaged p = Charts.prepare(new ChartSource.Directory(chart), dir, null, r -> r);
    assertThat(p.name()).isEqualTo("empty");
    assertThat(p.version()).isEqualTo("0.1.0");
    BundleSpec.ComponentSpec c = new BundleSpec.ComponentSpec("empty", true, new ChartSource.Directory(chart),
        List.of(), "default", "empty", List.of(), List.of());
    assertThat(Charts.renderImages(p, c)).isEmpty();
  }
}
