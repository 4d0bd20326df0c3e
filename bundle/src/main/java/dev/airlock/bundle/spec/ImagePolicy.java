package dev.airlock.bundle.spec;

import java.nio.file.Path;
import java.util.List;

/**
 * What {@code bundle.yaml}'s {@code imagePolicy} asks of every image's cosign signatures.
 *
 * @param signatures whether a signature by one of {@code keys} is required, checked when present, or not looked for
 * @param keys PEM public keys (ECDSA P-256 or Ed25519) the vendor trusts, resolved against the spec's directory
 * @param identities repositories (globs, {@code *} within a path segment, {@code **} across) one of which the signed
 *     payload's {@code docker-reference} must name; empty: any
 */
public record ImagePolicy(Signatures signatures, List<Path> keys, List<String> identities) {

  /** {@code required}, {@code optional} or {@code off}. */
  public enum Signatures {
    /** Every image must carry a signature that verifies with a listed key; build refuses otherwise. */
    REQUIRED,
    /** Signatures that verify are carried and checked again at install; unsigned images pass. */
    OPTIONAL,
    /** Signatures are neither looked for nor carried. */
    OFF;

    public String word() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  public ImagePolicy {
    keys = List.copyOf(keys);
    identities = List.copyOf(identities);
  }

  /** No policy in the spec: signatures are not looked for. */
  public static ImagePolicy off() {
    return new ImagePolicy(Signatures.OFF, List.of(), List.of());
  }
}
