package dev.airlock.airgap.push;

import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.oci.ImageReference;

/**
 * Where a bundle's images go: a registry host and a path prefix. {@code registry.corp:5000/platform} puts
 * {@code docker.io/library/nginx:1.27} at {@code registry.corp:5000/platform/library/nginx:1.27}.
 */
public record RegistryTarget(String registry, String prefix) {

  public static RegistryTarget parse(String text) {
    String t = text.strip().replaceAll("/+$", "");
    if (t.contains("://")) {
      throw new AirlockException(Kind.BAD_INPUT, "'" + text + "' is a URL; give the registry as HOST[:PORT][/PREFIX]",
          "e.g. --registry registry.corp:5000/platform");
    }
    int slash = t.indexOf('/');
    String host = slash < 0 ? t : t.substring(0, slash);
    String prefix = slash < 0 ? "" : t.substring(slash + 1);
    if (host.isEmpty()) {
      throw new AirlockException(Kind.BAD_INPUT, "'" + text + "' names no registry host",
          "e.g. --registry registry.corp:5000/platform");
    }
    // Validates host and prefix with the image reference rules.
    ImageReference.parse(host + "/" + (prefix.isEmpty() ? "x" : prefix + "/x") + ":t");
    return new RegistryTarget(host, prefix);
  }

  /** The repository an image is pushed to. */
  public String repositoryFor(ImageReference source) {
    return prefix.isEmpty() ? source.repository() : prefix + "/" + source.repository();
  }

  @Override
  public String toString() {
    return prefix.isEmpty() ? registry : registry + "/" + prefix;
  }
}
