package dev.airlock.oci;

import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A parsed image reference with Docker's defaults: {@code nginx:1.25} is {@code docker.io/library/nginx:1.25}.
 * Parse once at the edge; nothing else passes raw image strings around.
 *
 * @param registry registry host[:port], e.g. {@code docker.io}
 * @param repository path inside the registry, e.g. {@code library/nginx}
 * @param tag tag, or null when only a digest is given
 * @param digest digest, or null
 */
public record ImageReference(String registry, String repository, String tag, Digest digest) {

  public static final String DOCKER_HUB = "docker.io";
  private static final Pattern COMPONENT = Pattern.compile("[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*");
  private static final Pattern TAG = Pattern.compile("[\\w][\\w.-]{0,127}");
  private static final Pattern HOST = Pattern.compile("[a-zA-Z0-9.-]+(?::[0-9]+)?|\\[[0-9a-fA-F:]+\\](?::[0-9]+)?");

  public ImageReference {
    if (tag == null && digest == null) {
      tag = "latest";
    }
  }

  public static ImageReference parse(String text) {
    if (text == null || text.isBlank() || text.length() > 4096 || !text.strip().equals(text)) {
      throw invalid(text, "it is empty or has spaces");
    }
    String rest = text;
    Digest digest = null;
    int at = rest.indexOf('@');
    if (at >= 0) {
      String d = rest.substring(at + 1);
      if (!Digest.isDigest(d)) {
        throw invalid(text, "'" + d + "' is not a sha256 digest");
      }
      digest = Digest.parse(d);
      rest = rest.substring(0, at);
    }
    String tag = null;
    int slash = rest.lastIndexOf('/');
    int colon = rest.lastIndexOf(':');
    if (colon > slash) {
      tag = rest.substring(colon + 1);
      rest = rest.substring(0, colon);
      if (!TAG.matcher(tag).matches()) {
        throw invalid(text, "'" + tag + "' is not a valid tag");
      }
    }
    String registry = DOCKER_HUB;
    String repository = rest;
    int first = rest.indexOf('/');
    if (first > 0) {
      String head = rest.substring(0, first);
      if (head.contains(".") || head.contains(":") || head.equals("localhost") || head.startsWith("[")) {
        registry = head;
        repository = rest.substring(first + 1);
      }
    }
    if (registry.equals("index.docker.io") || registry.equals("registry-1.docker.io")) {
      registry = DOCKER_HUB;
    }
    if (!HOST.matcher(registry).matches()) {
      throw invalid(text, "'" + registry + "' is not a registry host");
    }
    if (registry.equals(DOCKER_HUB) && !repository.contains("/")) {
      repository = "library/" + repository;
    }
    validateRepository(repository, text);
    return new ImageReference(registry, repository, tag, digest);
  }

  static void validateRepository(String repository, String text) {
    if (repository.isEmpty() || repository.length() > 255) {
      throw invalid(text, "the repository path is empty or too long");
    }
    for (String part : repository.split("/", -1)) {
      if (!COMPONENT.matcher(part).matches()) {
        throw invalid(text, "'" + part + "' is not a valid path component (lowercase letters, digits, . _ -)");
      }
    }
  }

  private static AirlockException invalid(String text, String why) {
    return new AirlockException(Kind.BAD_INPUT, "'" + text + "' is not a valid image reference: " + why,
        "write it as [registry/]repository[:tag][@sha256:digest]");
  }

  public Optional<String> tagOpt() {
    return Optional.ofNullable(tag);
  }

  /** The tag if any, else the digest: what to ask the registry for. */
  public String reference() {
    return digest != null ? digest.toString() : tag;
  }

  public ImageReference withDigest(Digest d) {
    return new ImageReference(registry, repository, tag, d);
  }

  public ImageReference withRegistryAndRepository(String newRegistry, String newRepository) {
    return new ImageReference(newRegistry, newRepository, tag, digest);
  }

  /** {@code registry/repository} without tag or digest. */
  public String name() {
    return registry + "/" + repository;
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder(name());
    if (tag != null) {
      sb.append(':').append(tag);
    }
    if (digest != null) {
      sb.append('@').append(digest);
    }
    return sb.toString();
  }
}
