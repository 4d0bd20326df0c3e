package dev.airlock.installer.server;

import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Who may start a login, before anyone has logged in: each start stores a Secret in the cluster, so starts are
 * limited per client address and in total (token buckets that refill over a minute), and the logins in progress are
 * capped. A refusal is a 429 that says which limit was met and when to try again.
 */
final class LoginStarts {

  /**
   * The limits: starts per client address and per replica in total per minute (also the burst), how many client
   * addresses are remembered, and how many logins may be in progress in the namespace.
   */
  record Limits(int perClient, int total, int clients, int pending) {
    static final Limits DEFAULT = new Limits(10, 120, 4096, 1000);
  }

  /** Counts the logins in progress (a read of the cluster) and deletes expired ones first when asked to. */
  interface Pending {
    int count(boolean sweepExpired);
  }

  private static final Duration WINDOW = Duration.ofMinutes(1);
  /** How long a count of the logins in progress is trusted, adding this replica's own starts since. */
  static final Duration COUNT_TTL = Duration.ofSeconds(10);

  private final Limits limits;
  private final Clock clock;
  private final Pending pending;
  private final Bucket total;
  private final Map<String, Bucket> clients = new ConcurrentHashMap<>();
  private int counted = -1; // guarded by this
  private Instant countedAt = Instant.EPOCH; // guarded by this

  LoginStarts(Limits limits, Clock clock, Pending pending) {
    this.limits = limits;
    this.clock = clock;
    this.pending = pending;
    this.total = new Bucket(limits.total(), clock.instant());
  }

  /** Takes one start for {@code from}, or refuses (429) saying which limit was met. */
  void take(String from) {
    Instant now = clock.instant();
    Bucket mine = clients.get(from);
    if (mine == null) {
      if (clients.size() >= limits.clients()) {
        // Forget addresses whose bucket is full again: they are idle, and a new bucket starts full too.
        clients.values().removeIf(b -> b.full(now));
      }
      if (clients.size() >= limits.clients()) {
        throw refused("too many clients are starting logins at once", "wait a minute and start the login again",
            WINDOW);
      }
      mine = clients.computeIfAbsent(from, k -> new Bucket(limits.perClient(), now));
    }
    if (!mine.take(now)) {
      Duration wait = mine.until(now);
      throw refused("too many logins started from " + from + " (at most " + limits.perClient() + " a minute)",
          "finish the logins already started, or wait " + wait.toSeconds() + " s and start again", wait);
    }
    if (!total.take(now)) {
      mine.giveBack();
      Duration wait = total.until(now);
      throw refused("this server is starting too many logins (at most " + limits.total() + " a minute)",
          "wait " + wait.toSeconds() + " s and start the login again", wait);
    }
    synchronized (this) {
      if (counted < 0 || counted >= limits.pending() || !now.isBefore(countedAt.plus(COUNT_TTL))) {
        counted = pending.count(false);
        countedAt = now;
        if (counted >= limits.pending()) {
          counted = pending.count(true);
        }
      }
      if (counted >= limits.pending()) {
        mine.giveBack();
        total.giveBack();
        throw refused(counted + " logins are in progress, the most this server keeps (" + limits.pending() + ")",
            "finish or abandon a login: each expires " + Logins.LIFETIME.toMinutes() + " minutes after it starts",
            WINDOW);
      }
      counted++;
    }
  }

  private static AirlockException refused(String what, String fix, Duration retryAfter) {
    return new AirlockException(Kind.DENIED, what, fix).with("status", "429").with(AirlockException.CHECK,
        "login-rate").with(Web.RETRY_AFTER, String.valueOf(Math.max(1, retryAfter.toSeconds())));
  }

  /** A token bucket that holds {@code capacity} starts and refills them evenly over a minute. */
  private static final class Bucket {
    private final int capacity;
    private double tokens;
    private Instant last;

    Bucket(int capacity, Instant now) {
      this.capacity = capacity;
      this.tokens = capacity;
      this.last = now;
    }

    private void refill(Instant now) {
      if (now.isAfter(last)) {
        double perNano = (double) capacity / WINDOW.toNanos();
        tokens = Math.min(capacity, tokens + Duration.between(last, now).toNanos() * perNano);
        last = now;
      }
    }

    synchronized boolean take(Instant now) {
      refill(now);
      if (tokens < 1) {
        return false;
      }
      tokens -= 1;
      return true;
    }

    synchronized void giveBack() {
      tokens = Math.min(capacity, tokens + 1);
    }

    synchronized boolean full(Instant now) {
      refill(now);
      return tokens >= capacity;
    }

    /** How long until the next start is allowed (at least a second, for messages). */
    synchronized Duration until(Instant now) {
      refill(now);
      long nanos = (long) Math.ceil((1 - tokens) * WINDOW.toNanos() / capacity);
      return Duration.ofNanos(Math.max(nanos, 1_000_000_000L));
    }
  }
}
