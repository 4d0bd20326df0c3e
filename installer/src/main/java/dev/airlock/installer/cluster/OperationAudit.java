package dev.airlock.installer.cluster;

import dev.airlock.deploy.OperationResult;
import dev.airlock.error.AirlockException;
import dev.airlock.kube.AuditLog;
import dev.airlock.kube.KubeTarget;
import java.time.Clock;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * The CLI's operations (install, upgrade, rollback, uninstall) in the installation's audit log, next to the server's
 * events ({@code airlock audit export}): who ran it, what it moved from and to, and how it ended — a success, a
 * no-op, or the failure's kind (rolled back, preflight, refused, ...). Dry runs are not recorded. The operation's
 * outcome stands even when the log cannot be written (a warning says why).
 */
public final class OperationAudit {

  private OperationAudit() {}

  static OperationResult run(KubeTarget kube, String namespace, String action, Supplier<OperationResult> operation) {
    return run(kube, namespace, action, "cli", operation);
  }

  /** Runs {@code operation} as {@link #run(KubeTarget, String, String, Supplier)}, recorded as coming from {@code from}. */
  public static OperationResult run(KubeTarget kube, String namespace, String action, String from,
      Supplier<OperationResult> operation) {
    OperationResult r;
    try {
      r = operation.get();
    } catch (AirlockException e) {
      if (e.kind() != AirlockException.Kind.BAD_INPUT) {
        record(kube, namespace, AuditLog.Event.of(kube.user(), action, namespace, e.kind().name().toLowerCase(
            Locale.ROOT).replace('_', '-'), from).with("reason", e.getMessage()));
      }
      throw e;
    }
    if (!r.dryRun()) {
      AuditLog.Event event = AuditLog.Event.of(kube.user(), action, namespace, r.changed() ? "succeeded"
          : "unchanged", from);
      if (r.operation() != null) {
        event = event.with("operation", r.operation().id()).with("from", r.operation().from())
            .with("to", r.operation().to()).with("bundle", r.operation().bundleDigest());
      }
      record(kube, namespace, event);
    }
    return r;
  }

  private static void record(KubeTarget kube, String namespace, AuditLog.Event event) {
    try {
      if (kube.client().namespaces().withName(namespace).get() == null) {
        return; // nothing was installed there: no log to append to, and none is created for a refusal
      }
      new AuditLog(kube.client(), namespace, Clock.systemUTC(), null).record(event);
    } catch (RuntimeException e) {
      System.err.println("warning: the audit log in " + namespace + " was not written: " + e.getMessage());
    }
  }
}
