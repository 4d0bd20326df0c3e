package dev.airlock.sso;

import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Remembers the one-time values already used — SAML assertion and request ids, OIDC states and nonces — until they
 * expire, so each is accepted once. The server keeps it where every replica sees it; {@link #inMemory()} serves one
 * process.
 */
public interface ReplayCache {

  /** True the first time {@code id} is seen before {@code expires}; false for a replay. */
  boolean firstUse(String id, Instant expires, Instant now);

  /** A cache in this process; expired entries are swept every 1,024 uses. */
  static ReplayCache inMemory() {
    Map<String, Instant> seen = new ConcurrentHashMap<>();
    AtomicLong uses = new AtomicLong();
    return (id, expires, now) -> {
      if (uses.incrementAndGet() % 1024 == 0) {
        seen.values().removeIf(e -> e.isBefore(now));
      }
      Instant before = seen.putIfAbsent(id, expires);
      if (before != null && before.isBefore(now)) {
        // expired, not yet swept: a value this old is a replay all the same, refused by its own time checks
        return false;
      }
      return before == null;
    };
  }
}
