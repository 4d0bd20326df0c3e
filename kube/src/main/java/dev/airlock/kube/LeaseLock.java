package dev.airlock.kube;

import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * One airlock at a time changes an installation: a Lease ({@value #NAME}) in the record namespace, held while an
 * operation changes the cluster and renewed in the background. A holder that died (kill -9, a lost laptop) lets go
 * when its lease expires, {@link #DURATION} after its last renewal, and at once when it ran on this same machine and
 * its process is gone; the next run then takes over and resumes.
 */
public final class LeaseLock implements AutoCloseable {

  public static final String NAME = "airlock-lock";
  public static final Duration DURATION = Duration.ofSeconds(30);
  private static final Duration RENEW = Duration.ofSeconds(10);

  private final KubeTarget kube;
  private final String namespace;
  private final String holder;
  private final Clock clock;
  private final ScheduledExecutorService renewer;

  private LeaseLock(KubeTarget kube, String namespace, String holder, Clock clock) {
    this.kube = kube;
    this.namespace = namespace;
    this.holder = holder;
    this.clock = clock;
    this.renewer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "airlock-lock");
      t.setDaemon(true);
      return t;
    });
  }

  /** This process, as a lease holder: {@code user@host/pid}. */
  static String self(KubeTarget kube) {
    String host;
    try {
      host = InetAddress.getLocalHost().getHostName();
    } catch (java.io.IOException e) {
      host = "unknown-host";
    }
    return kube.user() + "@" + host + "/" + ManagementFactory.getRuntimeMXBean().getPid();
  }

  /** Takes the lock for {@code what}, or refuses naming who holds it and until when. */
  public static LeaseLock acquire(KubeTarget kube, String namespace, String what, Clock clock) {
    LeaseLock lock = new LeaseLock(kube, namespace, self(kube), clock);
    lock.take(what);
    lock.renewer.scheduleAtFixedRate(lock::renew, RENEW.toMillis(), RENEW.toMillis(), TimeUnit.MILLISECONDS);
    return lock;
  }

  private void take(String what) {
    try {
      Lease lease = kube.client().leases().inNamespace(namespace).withName(NAME).get();
      ZonedDateTime now = ZonedDateTime.ofInstant(clock.instant(), ZoneOffset.UTC);
      if (lease == null) {
        kube.client().leases().inNamespace(namespace).resource(lease(now, null)).create();
        return;
      }
      String other = lease.getSpec().getHolderIdentity();
      ZonedDateTime renewed = lease.getSpec().getRenewTime();
      Integer seconds = lease.getSpec().getLeaseDurationSeconds();
      Instant expires = renewed == null ? Instant.EPOCH
          : renewed.toInstant().plusSeconds(seconds == null ? DURATION.toSeconds() : seconds);
      if (other != null && !other.equals(holder) && expires.isAfter(clock.instant()) && !diedHere(other)) {
        throw new AirlockException(Kind.BAD_INPUT, "another airlock (" + other + ") is changing the installation "
            + "in " + namespace + " (lease renewed " + renewed.toInstant() + ")", "wait for it to finish; if it "
            + "died, run the command again after " + expires + " and it takes over");
      }
      kube.client().leases().inNamespace(namespace).resource(lease(now, lease.getMetadata().getResourceVersion()))
          .update();
    } catch (KubernetesClientException e) {
      if (e.getCode() == 409) {
        throw new AirlockException(Kind.BAD_INPUT, "another airlock took the lock on " + namespace + "/" + NAME
            + " at the same moment", "wait for it to finish, then run the command again", e);
      }
      throw kube.failure("taking the lock " + namespace + "/" + NAME + " for " + what, e);
    }
  }

  /** A holder on this machine whose process is gone (killed) need not be waited for. */
  private boolean diedHere(String other) {
    int slash = other.lastIndexOf('/');
    int at = other.lastIndexOf('@', slash);
    if (slash < 0 || at < 0 || !other.substring(at + 1, slash).equals(holder.substring(holder.lastIndexOf('@') + 1,
        holder.lastIndexOf('/')))) {
      return false;
    }
    try {
      long pid = Long.parseLong(other.substring(slash + 1));
      return ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true);
    } catch (NumberFormatException e) {
      return false;
    }
  }

  private Lease lease(ZonedDateTime now, String resourceVersion) {
    return new LeaseBuilder().withNewMetadata().withName(NAME).withNamespace(namespace)
        .withResourceVersion(resourceVersion).addToLabels(KubeTarget.LABEL_MANAGED_BY, "airlock").endMetadata()
        .withNewSpec().withHolderIdentity(holder).withLeaseDurationSeconds((int) DURATION.toSeconds())
        .withAcquireTime(now).withRenewTime(now).endSpec().build();
  }

  private void renew() {
    try {
      kube.client().leases().inNamespace(namespace).withName(NAME).edit(l -> {
        if (holder.equals(l.getSpec().getHolderIdentity())) {
          l.getSpec().setRenewTime(ZonedDateTime.ofInstant(clock.instant(), ZoneOffset.UTC));
        }
        return l;
      });
    } catch (RuntimeException ignored) {
      // the next renewal tries again; the record's resourceVersion still guards every write
    }
  }

  /** Lets go: stops renewing and deletes the lease if it is still ours. */
  @Override
  public void close() {
    renewer.shutdownNow();
    try {
      Lease lease = kube.client().leases().inNamespace(namespace).withName(NAME).get();
      if (lease != null && holder.equals(lease.getSpec().getHolderIdentity())) {
        kube.client().leases().inNamespace(namespace).withName(NAME).delete();
      }
    } catch (KubernetesClientException ignored) {
      // expires by itself
    }
  }
}
