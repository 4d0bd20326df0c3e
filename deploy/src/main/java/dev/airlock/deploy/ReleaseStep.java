package dev.airlock.deploy;

import com.marcnuri.helm.Release;
import dev.airlock.deploy.plan.Step;
import dev.airlock.kube.KubeTarget;
import dev.airlock.error.AirlockException;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code release/COMPONENT}: installs or upgrades one component's Helm release from its rendered chart. Undone by
 * restoring the revision it replaced (live objects included, as {@code helm rollback} does), or by uninstalling a
 * release it created.
 */
final class ReleaseStep implements Step {

  private final KubeTarget kube;
  private final ChartRenderer.Rendered rendered;
  private final State.Component was;
  private final String description;
  private final int timeoutSeconds;
  private final boolean waitReady;
  private final Path work;
  private final java.util.List<String> valuesDiff;

  /** @param valuesDiff how the admin's values for this component change ({@link InstalledValues#diff}) */
  ReleaseStep(KubeTarget kube, ChartRenderer.Rendered rendered, State.Component was, String description,
      int timeoutSeconds, boolean waitReady, Path work, java.util.List<String> valuesDiff,
      dev.airlock.event.EventHandler events) {
    this.kube = kube;
    this.rendered = rendered;
    this.was = was;
    this.description = description;
    this.timeoutSeconds = timeoutSeconds;
    this.waitReady = waitReady;
    this.work = work;
    this.valuesDiff = java.util.List.copyOf(valuesDiff);
    this.events = events;
  }

  private final dev.airlock.event.EventHandler events;
  /** How often the wait for readiness says what it still waits for. */
  static final long PROGRESS_MILLIS = 15_000;

  private String release() {
    return rendered.namespace() + "/" + rendered.release();
  }

  @Override
  public String name() {
    return "release/" + rendered.component();
  }

  @Override
  public String does() {
    String chart = "chart " + rendered.chartName() + " " + rendered.chartVersion();
    String waits = waitReady ? ", wait up to " + timeoutSeconds + " s for readiness" : "";
    String values = valuesDiff.isEmpty() ? "" : "; values: " + String.join(", ", valuesDiff);
    return was == null ? "install release " + release() + " (" + chart + waits + ")"
        : "upgrade release " + release() + " from revision " + was.revision() + " (" + (was.chartVersion()
        .equals(rendered.chartVersion()) ? chart + (valuesDiff.isEmpty() ? ", changed images or bundle values"
        : "") : "chart " + was.chart() + " " + was.chartVersion() + " → " + rendered.chartVersion()) + values
        + waits + ")";
  }

  @Override
  public String undoes() {
    return was == null ? "uninstall release " + release()
        : "restore " + release() + " to revision " + was.revision() + " (live objects as helm rollback does)";
  }

  @Override
  public String run() {
    boolean watch = waitReady && Readiness.hasWorkloads(rendered.objects());
    Readiness readiness = new Readiness(kube, rendered.objects());
    Thread progress = watch ? new Thread(() -> {
      try {
        while (true) {
          Thread.sleep(PROGRESS_MILLIS);
          List<String> waiting = readiness.notReady();
          if (!waiting.isEmpty()) {
            events.on(new dev.airlock.event.Event.Log(dev.airlock.event.Event.Level.INFO, "waiting for "
                + release() + ": " + String.join("; ", waiting)));
          }
        }
      } catch (InterruptedException e) {
        // the release is done
      }
    }, "readiness-" + rendered.component()) : null;
    if (progress != null) {
      progress.setDaemon(true);
      progress.start();
    }
    Release r;
    try {
      r = new Releases(kube).apply(rendered.release(), rendered.namespace(), rendered.chartDir(), description,
          timeoutSeconds, waitReady);
    } catch (AirlockException e) {
      List<String> waiting = watch ? readiness.notReady() : List.of();
      if (waiting.isEmpty()) {
        throw e;
      }
      throw new AirlockException(e.kind(), "release " + release() + " did not become ready within " + timeoutSeconds
          + " s: " + String.join("; ", waiting) + " (Helm: " + e.getMessage() + ")", "fix what is named (an image "
          + "the registry lacks, a claim no provisioner serves, a failing probe), or give it longer with --timeout; "
          + "'kubectl describe pod -n " + rendered.namespace() + "' shows the rest", e)
          .with(AirlockException.RESOURCE, release());
    } finally {
      if (progress != null) {
        progress.interrupt();
      }
    }
    return release() + " revision " + r.getRevision() + " deployed (chart " + rendered.chartName() + " "
        + rendered.chartVersion() + ")";
  }

  @Override
  public String undo() {
    Releases helm = new Releases(kube);
    if (was == null) {
      helm.uninstall(rendered.release(), rendered.namespace());
      return "uninstalled " + release() + " (new in this operation)";
    }
    return helm.restore(rendered.release(), rendered.namespace(), was.revision(), work.resolve("restore"),
        timeoutSeconds, waitReady);
  }
}
