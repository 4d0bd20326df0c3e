package dev.airlock.installer.server;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.function.Supplier;

/**
 * A value read again once it is older than its time to live: the stored roles (a change reaches every request within
 * seconds, without a list of the roles per request) and the cluster's API discovery.
 */
final class Ttl<T> {

  private final Supplier<T> load;
  private final Duration ttl;
  private final Clock clock;
  private T value;
  private Instant loaded;

  Ttl(Supplier<T> load, Duration ttl, Clock clock) {
    this.load = load;
    this.ttl = ttl;
    this.clock = clock;
  }

  synchronized T get() {
    Instant now = clock.instant();
    if (value == null || !now.isBefore(loaded.plus(ttl))) {
      value = load.get();
      loaded = now;
    }
    return value;
  }

  /** Forgets the value: the next {@link #get} reads it (after this server changed it). */
  synchronized void invalidate() {
    value = null;
  }
}
