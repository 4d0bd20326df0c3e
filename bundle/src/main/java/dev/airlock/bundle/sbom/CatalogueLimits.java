package dev.airlock.bundle.sbom;

import java.time.Duration;

/**
 * Bounds on cataloguing one layer, so a hostile layer (a 4 GB status file, a gzip or zip bomb) costs bounded memory
 * and time and yields a note instead of a crash or a hang.
 *
 * @param databaseBytes largest package database read (dpkg status, apk installed); larger ones are skipped
 * @param smallFileBytes largest pom.properties, METADATA or os-release read
 * @param jarInflatedBytes bytes one jar may inflate while its entries are walked; beyond it the jar is left
 * @param expansion a layer may expand to {@code expansion} times its compressed size plus {@link #expansionSlack}
 * @param expansionSlack see {@code expansion}
 * @param perLayer wall-clock time one layer may take
 */
public record CatalogueLimits(long databaseBytes, long smallFileBytes, long jarInflatedBytes, long expansion,
    long expansionSlack, Duration perLayer) {

  public static CatalogueLimits defaults() {
    return new CatalogueLimits(16L << 20, 1L << 20, 256L << 20, 64, 1L << 30, Duration.ofMinutes(2));
  }
}
