package dev.airlock.bundle.spec;

import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.oci.ImageReference;

/**
 * Pull images of {@code registry} through {@code mirrorRegistry/mirrorPrefix} instead: with
 * {@code docker.io=127.0.0.1:5000/hub}, {@code docker.io/library/nginx:1.25} is read from
 * {@code 127.0.0.1:5000/hub/library/nginx:1.25}. The bundle still records the original reference.
 */
public record Mirror(String registry, String mirrorRegistry, String mirrorPrefix) {

  /** Parses {@code REGISTRY=MIRROR_HOST[/PREFIX]}. */
  public static Mirror parse(String text) {
    int eq = text.indexOf('=');
    if (eq <= 0 || eq == text.length() - 1) {
      throw new AirlockException(Kind.BAD_INPUT, "'" + text + "' is not a mirror",
          "write mirrors as REGISTRY=MIRROR_HOST[/PREFIX], e.g. docker.io=127.0.0.1:5000/hub");
    }
    return of(text.substring(0, eq).strip(), text.substring(eq + 1).strip());
  }

  public static Mirror of(String registry, String target) {
    String host = target;
    String prefix = "";
    int slash = target.indexOf('/');
    if (slash > 0) {
      host = target.substring(0, slash);
      prefix = target.substring(slash + 1).replaceAll("/+$", "");
    }
    if (host.isEmpty() || registry.isEmpty()) {
      throw new AirlockException(Kind.BAD_INPUT, "'" + registry + "=" + target + "' is not a mirror",
          "write mirrors as REGISTRY=MIRROR_HOST[/PREFIX]");
    }
    String normalized = registry.equals("index.docker.io") ? ImageReference.DOCKER_HUB : registry;
    return new Mirror(normalized, host, prefix);
  }

  public boolean appliesTo(ImageReference ref) {
    return ref.registry().equals(registry);
  }

  /** Where to pull {@code ref} from. */
  public ImageReference apply(ImageReference ref) {
    String repo = mirrorPrefix.isEmpty() ? ref.repository() : mirrorPrefix + "/" + ref.repository();
    return ref.withRegistryAndRepository(mirrorRegistry, repo);
  }

  @Override
  public String toString() {
    return registry + "=" + mirrorRegistry + (mirrorPrefix.isEmpty() ? "" : "/" + mirrorPrefix);
  }
}
