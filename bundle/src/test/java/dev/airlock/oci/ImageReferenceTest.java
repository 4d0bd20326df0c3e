package dev.airlock.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ImageReferenceTest {

  @ParameterizedTest
  @CsvSource({
      "nginx, docker.io/library/nginx:latest",
      "nginx:1.25, docker.io/library/nginx:1.25",
      "moby/buildkit:v0.16.0, docker.io/moby/buildkit:v0.16.0",
      "index.docker.io/library/alpine:3.20, docker.io/library/alpine:3.20",
      "ghcr.io/acme/ctl:1.0, ghcr.io/acme/ctl:1.0",
      "localhost/app, localhost/app:latest",
      "127.0.0.1:5000/hub/library/nginx:1.25, 127.0.0.1:5000/hub/library/nginx:1.25",
      "registry.corp:5000/a/b/c@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef,"
          + " registry.corp:5000/a/b/c@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
      "quay.io/x/y:1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef,"
          + " quay.io/x/y:1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"})
  void parsesWithDockerDefaults(String text, String canonical) {
    assertThat(ImageReference.parse(text).toString()).isEqualTo(canonical);
  }

  @ParameterizedTest
  @CsvSource({"'Nginx:1'", "'nginx:'", "'nginx@sha256:abc'", "'a//b'", "' nginx'", "'nginx:1.0 '", "''",
      "'nginx:-bad'"})
  void refusesInvalid(String text) {
    assertThatThrownBy(() -> ImageReference.parse(text)).hasMessageContaining("is not a valid image reference");
  }
}
