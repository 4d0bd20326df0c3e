package dev.airlock.installer.server;

import dev.airlock.deploy.Check;
import dev.airlock.deploy.DeployRequest;
import dev.airlock.deploy.Deployer;
import dev.airlock.deploy.Installations;
import dev.airlock.deploy.OperationResult;
import dev.airlock.deploy.Rollback;
import dev.airlock.deploy.State;
import dev.airlock.deploy.StateStore;
import dev.airlock.deploy.plan.Plan;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.event.Event;
import dev.airlock.installer.cluster.OperationAudit;
import dev.airlock.keys.TrustedRoots;
import dev.airlock.kube.KubeTarget;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * Upgrades and rollbacks started from the console. They run in the server with its ServiceAccount (which needs the
 * chart's {@code upgrades: true}), recorded as the console's user, through the same engine as the CLI: the same
 * checks, the same plan, the same automatic rollback, the same record in the cluster. One runs at a time on a
 * replica; the Lease in the cluster keeps two replicas (or a CLI) from running at once.
 */
final class ConsoleOperations {

  /** What the operations need from where the server was started; null fields mean the console cannot run them. */
  record Setup(KubeTarget kube, TrustedRoots roots, Path uploadDir) {}

  /** A bundle checked before it is confirmed: the plan and the preflight results, or why it cannot go ahead. */
  record Review(Uploads.Upload upload, String product, String from, String version, String title, List<Check> checks,
      Plan.View plan, String error, String fix, Instant at) {
    public boolean ok() {
      return error == null;
    }
  }

  /** One operation started here: its log as it goes and how it ended. */
  static final class Run {
    final String id;
    final String kind;
    final String user;
    final String title;
    final Instant started;
    /** The operation recorded before this one started, so its steps are not shown as this one's. */
    final String before;
    final List<String> log = Collections.synchronizedList(new ArrayList<>());
    volatile boolean done;
    volatile boolean ok;
    volatile String summary;
    volatile String fix;

    Run(String kind, String user, String title, Instant started, String before) {
      byte[] b = new byte[9];
      new java.security.SecureRandom().nextBytes(b);
      this.id = HexFormat.of().formatHex(b);
      this.kind = kind;
      this.user = user;
      this.title = title;
      this.started = started;
      this.before = before;
    }

    public String id() {
      return id;
    }

    /**
     * A line at each further tenth of a phase that announced its size, else at each further 64 MiB (the push is
     * announced by the plan's step, without its size).
     */
    private synchronized String progressLine(Event.Progress p) {
      long[] t = progress.computeIfAbsent(p.phase(), k -> new long[] {-1, 0, 0});
      t[1] += p.delta();
      long mark = t[0] > 0 ? Math.max(0, Math.min(10, t[1] * 10 / t[0])) : t[1] >> 26;
      if (mark <= t[2]) {
        return null;
      }
      t[2] = mark;
      return t[0] > 0 ? "  " + p.phase() + ": " + mark * 10 + "% of " + size(t[0])
          : "  " + p.phase() + ": " + size(t[1]) + " sent";
    }

    private static String size(long bytes) {
      return bytes >= 1 << 20 ? (bytes >> 20) + " MiB" : (bytes >> 10) + " KiB";
    }

    public String kind() {
      return kind;
    }

    public String title() {
      return title;
    }

    public String user() {
      return user;
    }

    public boolean done() {
      return done;
    }

    public boolean ok() {
      return ok;
    }

    public String summary() {
      return summary;
    }

    public String fix() {
      return fix;
    }

    public List<String> lines() {
      synchronized (log) {
        return List.copyOf(log);
      }
    }

    private final Map<String, long[]> progress = new ConcurrentHashMap<>();

    void on(Event e) {
      String line = null;
      if (e instanceof Event.Progress p) {
        line = progressLine(p);
      } else if (e instanceof Event.PhaseStarted st) {
        if (st.totalBytes() > 0) {
          progress.put(st.phase(), new long[] {st.totalBytes(), 0, 0}); // total, done, tenths shown
        }
        line = "▶ " + st.description();
      } else if (e instanceof Event.PhaseFinished f) {
        line = "✔ " + f.phase() + ": " + f.summary();
      } else if (e instanceof Event.Checked c) {
        line = c.status() + " " + c.id() + ": " + c.message();
      } else if (e instanceof Event.Log l) {
        line = (l.level() == Event.Level.WARN ? "warning: " : "") + l.message();
      }
      if (line != null) {
        log.add(line);
      }
    }
  }

  private final AirlockServer server;
  private volatile Setup setup;
  private volatile Uploads uploads;
  private final Map<String, Run> runs = new ConcurrentHashMap<>();
  private final Map<String, Review> reviews = new ConcurrentHashMap<>();
  private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "airlock-console-operation");
    t.setDaemon(true);
    return t;
  });
  private volatile Run current;

  ConsoleOperations(AirlockServer server) {
    this.server = server;
  }

  void setUp(Setup s) {
    this.setup = s;
    this.uploads = new Uploads(s.uploadDir(), server.clock());
    uploads.sweep();
  }

  boolean available() {
    return setup != null;
  }

  Uploads uploads() {
    requireSetup();
    return uploads;
  }

  private Setup requireSetup() {
    Setup s = setup;
    if (s == null) {
      throw new AirlockException(Kind.BAD_INPUT, "this server does not run upgrades from the console",
          "run 'airlock server' with an admin's kubeconfig, or install the server's chart with upgrades: true "
          + "(docs/console.md); the CLI always can: airlock upgrade --bundle FILE").with("status", "409");
    }
    return s;
  }

  /**
   * Verifies an uploaded bundle and runs the upgrade's checks without changing anything. A bundle that passes is
   * remembered for 10 minutes; a refusal is not, so a reload after fixing its cause checks again.
   */
  Review review(Uploads.Upload u, String user) {
    Review known = reviews.get(u.id());
    Instant now = server.clock().instant();
    if (known != null && known.at().plusSeconds(600).isAfter(now)) {
      return known;
    }
    Setup s = requireSetup();
    Path bundle = uploads.bundle(u);
    List<Check> checks = Collections.synchronizedList(new ArrayList<>());
    try (KubeTarget as = s.kube().as(user)) {
      // Every entry's checksum, once, here: the upgrade itself checks only the signed head before it starts (blobs
      // are checked as they are pushed), and a damaged upload should be refused before anyone confirms it.
      String version = new dev.airlock.bundle.BundleVerifier(s.roots(), server.clock(), e -> { }).verify(bundle)
          .manifest().version();
      OperationResult dry = new Deployer(as, server.settings().namespace()).addEventHandler(e -> {
        if (e instanceof Event.Checked c) {
          checks.add(new Check(c.id(), Check.Status.valueOf(c.status().toUpperCase(java.util.Locale.ROOT)),
              c.message(), c.fix()));
        }
      }).run(DeployRequest.upgrade(bundle, s.roots()).dryRun(true).build());
      if (dry.plan() == null || dry.plan().steps().isEmpty()) {
        throw new AirlockException(Kind.BAD_INPUT, dry.summary(), "upload a bundle of a newer version");
      }
      State.Installation installed = dry.installation();
      Review r = new Review(u, installed == null ? null : installed.product(), installed == null ? null
          : installed.version(), version, dry.plan().title(), List.copyOf(checks), dry.plan(), null, null, now);
      reviews.put(u.id(), r);
      return r;
    } catch (AirlockException e) {
      // The file is the upload's on the server: name it as the admin knows it.
      return new Review(u, null, null, null, null, List.copyOf(checks), null, e.getMessage().replace(
          bundle.toString(), u.name()), e.fix().orElse(null), now);
    }
  }

  /** Starts the upgrade to an uploaded, reviewed bundle. */
  Run upgrade(Uploads.Upload u, String user, String from, int timeoutSeconds) {
    Setup s = requireSetup();
    Path bundle = uploads.bundle(u);
    DeployRequest request = DeployRequest.upgrade(bundle, s.roots()).timeoutSeconds(timeoutSeconds).build();
    return start("upgrade", user, "Upgrade with " + u.name(), from, (as, run) -> {
          OperationResult r = new Deployer(as, server.settings().namespace()).addEventHandler(run::on)
              .run(request);
          uploads.delete(u.id());
          reviews.remove(u.id());
          return r;
        });
  }

  /** The versions a rollback can go back to, newest first. */
  List<String> rollbackTargets() {
    try {
      Optional<State> state = new StateStore(KubeTarget.reading(server.client(), "airlock-server"),
          server.settings().namespace()).load();
      List<String> out = new ArrayList<>();
      state.ifPresent(st -> st.previous().forEach(i -> {
        if (!out.contains(i.version()) && !i.version().equals(st.installation().version())) {
          out.add(0, i.version());
        }
      }));
      return out;
    } catch (AirlockException e) {
      return List.of();
    }
  }

  /** The rollback's plan, changing nothing. */
  Plan.View rollbackPlan(String version, String user) {
    Setup s = requireSetup();
    try (KubeTarget as = s.kube().as(user)) {
      return new Rollback(as, server.settings().namespace()).run(Optional.ofNullable(version), true, 300, true)
          .plan();
    }
  }

  /** Starts a rollback to {@code version} (null: the version before the last upgrade). */
  Run rollback(String version, String user, String from, int timeoutSeconds) {
    return start("rollback", user, "Roll back" + (version == null ? "" : " to " + version), from,
        (as, run) -> new Rollback(as, server.settings().namespace()).events(run::on).run(Optional.ofNullable(
            version), false, timeoutSeconds, true));
  }

  interface Work {
    OperationResult run(KubeTarget as, Run run);
  }

  private synchronized Run start(String kind, String user, String title, String from, Work work) {
    Setup s = requireSetup();
    Run busy = current;
    if (busy != null && !busy.done) {
      throw new AirlockException(Kind.BAD_INPUT, busy.title + " is running (started by " + busy.user + ")",
          "follow it at /console/operations/" + busy.id + " and start this when it has ended")
          .with("status", "409");
    }
    State.Operation last = Installations.lastOperation(KubeTarget.reading(server.client(), "airlock-server"),
        server.settings().namespace());
    Run run = new Run(kind, user, title, server.clock().instant(), last == null ? null : last.id());
    runs.put(run.id, run);
    current = run;
    worker.submit(() -> {
      try (KubeTarget as = s.kube().as(user)) {
        Supplier<OperationResult> op = () -> work.run(as, run);
        OperationResult r = OperationAudit.run(as, server.settings().namespace(), kind, "console " + from, op);
        run.summary = r.summary();
        run.ok = true;
      } catch (AirlockException e) {
        run.summary = e.getMessage();
        run.fix = e.fix().orElse(null);
      } catch (RuntimeException e) {
        run.summary = "internal error: " + e;
        System.err.println("airlock server: console " + kind + ": " + e);
      } finally {
        run.done = true;
      }
    });
    return run;
  }

  /** An operation started on this replica, or null (another replica's: the page follows the cluster's record). */
  Run run(String id) {
    return runs.get(id);
  }

  /** The operation recorded in the cluster for {@code run}: null until it has begun. */
  State.Operation recorded(Run run) {
    State.Operation op = Installations.lastOperation(KubeTarget.reading(server.client(), "airlock-server"),
        server.settings().namespace());
    if (op == null || (run != null && op.id().equals(run.before))) {
      return null;
    }
    return op;
  }

  /** What the operation pages show of the present: whether one is running here, and where. */
  Map<String, Object> running() {
    Run r = current;
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("run", r != null && !r.done ? r : null);
    return m;
  }

  /** Removes day-old uploads (the server's sweep calls this). */
  void sweep() {
    Uploads u = uploads;
    if (u != null) {
      u.sweep();
    }
  }

  /** Lets a running operation finish (up to 5 minutes: a pod's grace period) before the server stops. */
  void close() {
    worker.shutdown();
    try {
      Run r = current;
      if (r != null && !r.done) {
        System.err.println("airlock server: waiting for " + r.title + " to finish before stopping");
      }
      worker.awaitTermination(5, java.util.concurrent.TimeUnit.MINUTES);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
