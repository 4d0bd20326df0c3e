package dev.airlock.airgap.install;

import com.marcnuri.helm.Release;
import dev.airlock.airgap.push.ImagePusher;
import dev.airlock.airgap.push.RegistryTarget;
import dev.airlock.bundle.BundleVerifier;
import dev.airlock.bundle.event.Event;
import dev.airlock.bundle.event.EventHandler;
import dev.airlock.bundle.format.BundleFile;
import dev.airlock.bundle.format.BundleManifest;
import dev.airlock.bundle.format.TarIndex;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.keys.TrustedRoots;
import dev.airlock.license.Decision;
import dev.airlock.license.Entitlements;
import dev.airlock.license.LicenseFile;
import dev.airlock.license.LicenseUpdates;
import dev.airlock.license.LicenseVerifier;
import dev.airlock.oci.Credentials;
import dev.airlock.oci.Digest;
import dev.airlock.oci.RegistryOptions;
import dev.airlock.version.SemVer;
import dev.airlock.version.VersionRange;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Installs and upgrades a platform from a bundle as a plan of named phases recorded in the cluster (ADR 5).
 *
 * <p>Read-only phases first — verify, license, render, preflight — so that bad input changes nothing. Then the plan
 * is recorded and the changing phases run: push, pull secrets, one Helm release per component in dependency order,
 * record. Each phase is recorded as it completes; a killed run, run again, resumes after the last recorded phase. An
 * upgrade that fails rolls every component it already upgraded back to its previous revision.
 */
public final class Installer {

  public static final String INSTALL = "install";
  public static final String UPGRADE = "upgrade";

  private final BundleFile bundle;
  private final TrustedRoots roots;
  private final KubeTarget kube;
  private final String namespace;
  private Path licenseFile;
  private RegistryTarget registry;
  private RegistryOptions registryOptions = RegistryOptions.defaults();
  private Map<String, Map<String, Object>> overrides = Map.of();
  private Set<String> skipChecks = Set.of();
  private Set<String> without;
  private boolean dryRun;
  private boolean waitReady;
  private boolean allowDowngrade;
  private boolean resumeOnly;
  private int timeoutSeconds = 300;
  private int parallelism = 4;
  private long chunkSize;
  private Clock clock = Clock.systemUTC();
  private Path workDir;
  /** The Secret holding the license the installation runs under (so upgrades need no --license). */
  public static final String LICENSE_SECRET = "airlock-license";
  private String licenseYaml;
  private java.util.function.Predicate<String> confirm = plan -> true;
  private final List<EventHandler> handlers = new CopyOnWriteArrayList<>();
  private final EventHandler events = e -> handlers.forEach(h -> h.on(e));

  public Installer(BundleFile bundle, TrustedRoots roots, KubeTarget kube, String namespace) {
    this.bundle = bundle;
    this.roots = roots;
    this.kube = kube;
    this.namespace = namespace;
  }

  public Installer license(Path file) {
    this.licenseFile = file;
    return this;
  }

  public Installer registry(RegistryTarget target, RegistryOptions options) {
    this.registry = target;
    this.registryOptions = options;
    return this;
  }

  /** Values per component name, applied after the bundle's values. */
  public Installer overrides(Map<String, Map<String, Object>> values) {
    this.overrides = Map.copyOf(values);
    return this;
  }

  public Installer skipChecks(Set<String> ids) {
    this.skipChecks = Set.copyOf(ids);
    return this;
  }

  /** Optional components to leave out (default: those the installation left out, else none). */
  public Installer without(Set<String> components) {
    this.without = Set.copyOf(components);
    return this;
  }

  public Installer dryRun(boolean d) {
    this.dryRun = d;
    return this;
  }

  public Installer waitReady(boolean w) {
    this.waitReady = w;
    return this;
  }

  /** Only finish an interrupted operation of this bundle; refuse when there is none. */
  public Installer resumeOnly(boolean r) {
    this.resumeOnly = r;
    return this;
  }

  public Installer allowDowngrade(boolean a) {
    this.allowDowngrade = a;
    return this;
  }

  public Installer timeoutSeconds(int t) {
    this.timeoutSeconds = t;
    return this;
  }

  public Installer parallelism(int n) {
    this.parallelism = n;
    return this;
  }

  public Installer chunkSize(long bytes) {
    this.chunkSize = bytes;
    return this;
  }

  public Installer clock(Clock c) {
    this.clock = c;
    return this;
  }

  public Installer workDir(Path dir) {
    this.workDir = dir;
    return this;
  }

  /**
   * Asked with the plan after the checks pass and before anything changes; false cancels (nothing changed).
   */
  public Installer confirm(java.util.function.Predicate<String> c) {
    this.confirm = c;
    return this;
  }

  public Installer addEventHandler(EventHandler h) {
    handlers.add(h);
    return this;
  }

  /**
   * What an operation did.
   *
   * @param changed false when nothing needed changing (a repeated install)
   * @param summary one line for people
   * @param checks the preflight results
   * @param plan the phases (for a dry run: what would run)
   */
  public record Result(boolean changed, String summary, State.Installation installation, List<Check> checks,
      State.Operation operation, List<String> plan) {}

  /** Installs the bundle, or resumes an interrupted install of it, or reports that it is installed already. */
  public Result install() {
    return run(INSTALL);
  }

  /** Upgrades the installation to the bundle; rolls every upgraded component back when a step fails. */
  public Result upgrade() {
    return run(UPGRADE);
  }

  private Result run(String kind) {
    if (registry == null && INSTALL.equals(kind)) {
      throw new AirlockException(Kind.BAD_INPUT, "no target registry", "pass --registry HOST[:PORT][/PREFIX]");
    }
    Path work = workDir;
    boolean ownWork = work == null;
    try {
      if (ownWork) {
        work = Files.createTempDirectory("airlock-" + kind);
      }
      return run(kind, work);
    } catch (IOException e) {
      throw new AirlockException(Kind.IO, "cannot create a work directory: " + e.getMessage(),
          "set TMPDIR to a writable directory", e);
    } finally {
      if (ownWork && work != null) {
        dev.airlock.io.TempTrees.delete(work);
      }
    }
  }

  private Result run(String kind, Path work) {
    // 1. verify (local)
    events.on(new Event.PhaseStarted(BundleVerifier.PHASE, "Verifying bundle " + bundle.path().getFileName(), -1));
    BundleVerifier.Verified verified = new BundleVerifier(roots, clock, events).verify(bundle, false);
    BundleManifest manifest = verified.manifest();
    String digest = Digest.of(bundle.readHead().manifestBytes()).toString();
    events.on(new Event.PhaseFinished(BundleVerifier.PHASE, manifest.name() + " " + manifest.version()
        + " signed by " + verified.signerKeyId() + " (root " + verified.rootKeyId() + ")"));

    StateStore store = new StateStore(kube, namespace);
    State state = store.load().orElse(null);
    State.Installation installed = state == null ? null : state.installation();
    SemVer to = SemVer.parse(manifest.version());
    if (registry == null) {
      if (installed == null) {
        throw new AirlockException(Kind.BAD_INPUT, "nothing is installed in namespace " + namespace,
            "install first with 'airlock install', or pass the right --namespace");
      }
      registry = RegistryTarget.parse(installed.registry());
    }
    if (installed != null) {
      registryOptions = Inventory.withPullSecret(kube, namespace, registryOptions, registry.registry());
    }

    // 2. license (local)
    String licenseId = license(kind, manifest, installed, to);

    // 3. what is running, what is installed
    State.Operation resume = null;
    if (state != null && state.operation() != null && state.operation().running()) {
      State.Operation op = state.operation();
      if (op.kind().equals(kind) && op.bundleDigest().equals(digest)) {
        resume = op;
        events.on(new Event.Log(Event.Level.WARN, "resuming the " + kind + " of " + manifest.name() + " "
            + manifest.version() + " that " + op.user() + " started at " + op.started() + " (done: "
            + String.join(", ", op.phases().stream().filter(p -> "done".equals(p.status()))
            .map(State.Phase::name).toList()) + ")"));
      } else {
        throw new AirlockException(Kind.BAD_INPUT, "an unfinished " + op.kind() + " to " + op.to() + " (started "
            + op.started() + " by " + op.user() + ") holds this installation", "finish it by running that "
            + op.kind() + " again with the same bundle (it resumes), or 'airlock rollback' to undo it");
      }
    }
    if (resume == null && resumeOnly) {
      throw new AirlockException(Kind.BAD_INPUT, "--resume: there is no unfinished " + kind + " of this bundle in "
          + namespace, "run the " + kind + " without --resume to start it; 'airlock plan show' shows the last one");
    }
    if (resume == null) {
      checkVersions(kind, manifest, installed, to);
    }

    // 4. render (local): every image must be in the bundle
    List<String> leftOut = new ArrayList<>();
    List<ChartRenderer.Rendered> rendered = render(manifest, select(manifest, installed, leftOut), work,
        serverVersion());

    // Nothing to do: the same bundle with the same values, every release at its recorded revision.
    if (resume == null && installed != null && installed.bundleDigest().equals(digest)
        && "installed".equals(installed.status()) && unchanged(installed, rendered)) {
      String summary = manifest.name() + " " + manifest.version() + " is installed in " + namespace + " and "
          + "matches this bundle and these values: nothing to do";
      events.on(new Event.Log(Event.Level.INFO, summary));
      return new Result(false, summary, installed, List.of(), state.operation(), List.of());
    }

    // 5. preflight (read-only, plus a test blob in the registry)
    events.on(new Event.PhaseStarted("preflight", "Preflight checks", -1));
    Set<String> releases = new LinkedHashSet<>();
    rendered.forEach(r -> releases.add(r.namespace() + "/" + r.release()));
    List<ChartRenderer.ObjectRef> objects = new ArrayList<>();
    rendered.forEach(r -> objects.addAll(r.objects()));
    Preflight preflight = new Preflight(kube, bundle, registry, registryOptions, namespace, skipChecks);
    List<Check> checks = preflight.run(objects, releases, manifest.name());
    checks.forEach(c -> events.on(new Event.Checked(c.id(), c.status().label(), c.message(), c.fix())));
    List<Check> failed = checks.stream().filter(c -> c.status() == Check.Status.FAIL).toList();
    events.on(new Event.PhaseFinished("preflight", failed.isEmpty() ? checks.size() + " checks passed"
        + (checks.stream().anyMatch(c -> c.status() == Check.Status.WARN) ? " (with warnings)" : "")
        : failed.size() + " of " + checks.size() + " checks failed"));
    if (!failed.isEmpty()) {
      throw new AirlockException(Kind.PREFLIGHT, "preflight failed: " + String.join("; ", failed.stream()
          .map(c -> c.id() + ": " + c.message()).toList()), failed.size() == 1 ? failed.get(0).fix()
          : "fix each failed check (see above); nothing was changed");
    }

    List<String> plan = new ArrayList<>(List.of("push", "pull-secrets"));
    Map<String, State.Component> before = new LinkedHashMap<>();
    if (installed != null) {
      installed.components().forEach(c -> before.put(c.name(), c));
    }
    for (ChartRenderer.Rendered r : rendered) {
      State.Component was = before.get(r.component());
      if (was == null || !was.renderedDigest().equals(r.digest())) {
        plan.add("release/" + r.component());
      }
    }
    plan.add("record");
    events.on(new Event.PhaseStarted("plan", "Planning", -1));
    ImagePusher.Survey survey = ImagePusher.from(bundle).to(registry).registries(registryOptions).survey();
    List<String> changing = new ArrayList<>();
    for (ChartRenderer.Rendered r : rendered) {
      State.Component was = before.get(r.component());
      if (plan.contains("release/" + r.component())) {
        changing.add(r.component() + (was == null ? " (new, chart " + r.chartVersion() + ")"
            : was.chartVersion().equals(r.chartVersion())
            ? " (chart " + r.chartVersion() + ", changed values or images)"
            : " (chart " + was.chartVersion() + " → " + r.chartVersion() + ")"));
      }
    }
    String planText = kind + " " + (installed == null || INSTALL.equals(kind) ? "" : installed.version() + " → ")
        + manifest.name() + " " + manifest.version() + ": push " + survey.blobs() + " blobs (" + survey.bytes()
        + " bytes) of " + survey.images() + " images to " + registry + "; releases: " + (changing.isEmpty()
        ? "none change" : String.join(", ", changing));
    events.on(new Event.PhaseFinished("plan", planText));
    if (dryRun) {
      return new Result(true, "dry run: would " + planText, installed, checks, null, plan);
    }

    if (resume == null && !confirm.test(planText)) {
      throw new AirlockException(Kind.BAD_INPUT, kind + " cancelled; nothing was changed", null);
    }

    // 6. one airlock at a time; record the plan, then the changing phases
    store.ensureNamespace(namespace, manifest.name());
    try (OperationLock lock = OperationLock.acquire(kube, namespace, kind, clock)) {
      Instant now = clock.instant();
      State.Operation op = resume != null ? resume : new State.Operation(kind + "-" + DateTimeFormatter
          .ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC).format(now), kind,
          installed == null ? null : installed.version(), manifest.version(), digest, kube.user(), now, null,
          "running", null, List.of());
      for (String p : List.of("verify", "license", "render", "preflight")) {
        if (!op.done(p)) {
          op = op.with(new State.Phase(p, "done", now, now, null));
        }
      }
      State current = (state == null ? new State(null, op, List.of(), List.of()) : state.withOperation(op));
      store.save(current, manifest.name());
      Recorder rec = new Recorder(store, current, manifest.name());

      try {
        if (!rec.op().done("push")) {
          rec.start("push", false);
          // The pusher announces the phase with its byte total (for the progress bar); the phase ends when recorded.
          ImagePusher.Result pushed = ImagePusher.from(bundle).to(registry).registries(registryOptions)
              .parallelism(parallelism).chunkSize(chunkSize).addEventHandler(e -> {
                if (!(e instanceof Event.PhaseFinished)) {
                  events.on(e);
                }
              }).push();
          rec.done("push", pushed.blobsUploaded() + " blobs uploaded (" + pushed.bytesUploaded() + " bytes), "
              + pushed.blobsMounted() + " mounted, " + pushed.blobsPresent() + " present");
        }
        if (!rec.op().done("pull-secrets")) {
          rec.start("pull-secrets");
          Set<String> namespaces = new LinkedHashSet<>();
          rendered.forEach(r -> namespaces.add(r.namespace()));
          for (String ns : namespaces) {
            store.ensureNamespace(ns, manifest.name());
            pullSecret(ns);
          }
          rec.done("pull-secrets", "image pull Secret " + ChartRenderer.PULL_SECRET + " in " + String.join(", ",
              namespaces));
        }
      } catch (AirlockException e) {
        rec.fail(e.getMessage());
        throw e;
      }

      Map<String, State.Component> after = new LinkedHashMap<>(before);
      List<ChartRenderer.Rendered> upgraded = new ArrayList<>();
      boolean wait = waitReady && clusterRunsPods();
      for (ChartRenderer.Rendered r : rendered) {
        String phase = "release/" + r.component();
        State.Component was = before.get(r.component());
        if (rec.op().done(phase)) {
          Releases.Revision latest = new Releases(kube).latest(r.release(), r.namespace()).orElseThrow(() ->
              new AirlockException(Kind.REMOTE, "the plan records release " + r.namespace() + "/" + r.release()
                  + " as done, but it is gone from the cluster", "'airlock rollback' to undo this " + kind
                  + ", or 'airlock uninstall' and install again"));
          after.put(r.component(), component(r, latest.revision()));
          upgraded.add(r);
          continue;
        }
        if (was != null && was.renderedDigest().equals(r.digest())) {
          continue;
        }
        rec.start(phase);
        try {
          Release release = new Releases(kube).apply(r.release(), r.namespace(), r.chartDir(), manifest.name() + " "
              + manifest.version() + " (" + kind + ")", timeoutSeconds, wait);
          if (!"deployed".equals(release.getStatus())) {
            throw new AirlockException(Kind.REMOTE, "release " + r.namespace() + "/" + r.release() + " ended "
                + release.getStatus(), null);
          }
          int revision = Integer.parseInt(release.getRevision());
          after.put(r.component(), component(r, revision));
          upgraded.add(r);
          rec.done(phase, r.namespace() + "/" + r.release() + " revision " + revision + " deployed (chart "
              + r.chartName() + " " + r.chartVersion() + ")");
        } catch (AirlockException | KubernetesClientException failure) {
          AirlockException e = failure instanceof AirlockException a ? a
              : kube.failure("upgrading " + r.release(), (KubernetesClientException) failure);
          if (UPGRADE.equals(kind)) {
            throw rollBack(rec, manifest, before, upgraded, r, e, work);
          }
          rec.fail(e.getMessage());
          throw new AirlockException(e.kind(), e.getMessage(), "fix the cause and run the same install again: it "
              + "resumes at " + phase, e);
        }
      }

      // 7. record the installation
      rec.start("record");
      Map<String, String> images = new LinkedHashMap<>();
      rendered.forEach(r -> images.putAll(r.images()));
      List<State.Component> components = new ArrayList<>();
      for (BundleManifest.Component c : manifest.components()) {
        if (after.containsKey(c.name())) {
          components.add(after.get(c.name()));
        }
      }
      State.Installation installation = new State.Installation(manifest.name(), manifest.version(), digest, licenseId,
          registry.toString(), namespace, kube.user(), clock.instant(), "installed", null, components, images,
          leftOut);
      State.Operation finished = rec.op().with(new State.Phase("record", "done", clock.instant(), clock.instant(),
          null)).finish("succeeded", null, clock.instant());
      State fin = rec.state().withInstallation(installation).withOperation(finished).archived();
      if (installed != null && !installed.version().equals(installation.version())) {
        fin = fin.remembering(installed);
      }
      storeLicense();
      store.save(fin, manifest.name());
      String summary = (UPGRADE.equals(kind) ? "upgraded " + manifest.name() + " " + installed.version() + " → "
          : "installed " + manifest.name() + " ") + manifest.version() + " in " + namespace + ": " + components.size()
          + " releases (" + String.join(", ", components.stream().map(c -> c.release() + " r" + c.revision())
          .toList()) + "), images in " + registry;
      events.on(new Event.PhaseFinished("record", summary));
      return new Result(true, summary, installation, checks, finished, plan);
    }
  }

  private String license(String kind, BundleManifest manifest, State.Installation installed, SemVer to) {
    events.on(new Event.PhaseStarted("license", "Checking the license", -1));
    Secret stored = installed == null ? null : kube.client().secrets().inNamespace(namespace)
        .withName(LICENSE_SECRET).get();
    LicenseFile storedFile = stored == null || stored.getData() == null
        || !stored.getData().containsKey("license.yaml") ? null : LicenseFile.parse(Base64.getDecoder().decode(
        stored.getData().get("license.yaml")), namespace + "/" + LICENSE_SECRET);
    LicenseFile file = licenseFile != null ? LicenseFile.read(licenseFile) : storedFile;
    if (file == null) {
      throw new AirlockException(Kind.LICENSE, "no license given" + (installed == null ? ""
          : " and none is stored in " + namespace + "/" + LICENSE_SECRET), "pass the license file from the "
          + "vendor with --license FILE");
    }
    licenseYaml = file.toYaml();
    Instant now = clock.instant();
    LicenseVerifier.Verified v = new LicenseVerifier(roots).verify(file, now);
    if (storedFile != null && file != storedFile && !storedFile.license().id().equals(v.license().id())) {
      Decision replace = LicenseUpdates.check(storedFile.license(), v.license(),
          new Entitlements(v.license()).state(now));
      if (!replace.allowed()) {
        throw new AirlockException(Kind.LICENSE, replace.message(), "pass the current license from the vendor, or "
            + "leave out --license to keep the installed one");
      }
      events.on(new Event.Log(Event.Level.INFO, replace.message()));
    }
    Entitlements e = new Entitlements(v.license());
    java.time.LocalDate released = manifest.created().atZone(ZoneOffset.UTC).toLocalDate();
    Decision d = UPGRADE.equals(kind) && installed != null
        ? e.canUpgrade(manifest.name(), SemVer.parse(installed.version()), to, released, now)
        : e.canInstall(manifest.name(), to, released, now);
    if (!d.allowed()) {
      throw new AirlockException(Kind.LICENSE, "license " + v.license().id() + ": " + d.message(),
          "ask the vendor for a license that covers " + manifest.name() + " " + manifest.version());
    }
    if (d.warning()) {
      events.on(new Event.Log(Event.Level.WARN, "license " + v.license().id() + ": " + d.message()));
    }
    events.on(new Event.PhaseFinished("license", "license " + v.license().id() + " (" + v.license().customer()
        + ") allows " + manifest.name() + " " + manifest.version()));
    return v.license().id();
  }

  private void checkVersions(String kind, BundleManifest manifest, State.Installation installed, SemVer to) {
    if (INSTALL.equals(kind)) {
      if (installed != null && !installed.bundleDigest().equals(Digest.of(bundle.readHead().manifestBytes())
          .toString()) && !installed.version().equals(manifest.version())) {
        throw new AirlockException(Kind.BAD_INPUT, installed.product() + " " + installed.version() + " is installed "
            + "in " + namespace + "; this bundle is " + manifest.version(), "upgrade with 'airlock upgrade --bundle "
            + bundle.path() + "'");
      }
      return;
    }
    if (installed == null) {
      throw new AirlockException(Kind.BAD_INPUT, "nothing is installed in namespace " + namespace + " to upgrade",
          "install with 'airlock install', or pass the right --namespace");
    }
    if (!installed.product().equals(manifest.name())) {
      throw new AirlockException(Kind.BAD_INPUT, "this bundle is " + manifest.name() + ", but " + namespace
          + " holds " + installed.product(), "pick the bundle of " + installed.product());
    }
    SemVer from = SemVer.parse(installed.version());
    if (to.isBefore(from) && !allowDowngrade) {
      throw new AirlockException(Kind.BAD_INPUT, "bundle " + manifest.version() + " is older than the installed "
          + installed.version() + ": a downgrade", "pass --allow-downgrade if you mean it, or use 'airlock rollback'");
    }
    if (!to.isBefore(from) && manifest.upgradesFrom() != null && !from.equals(to)
        && !VersionRange.parse(manifest.upgradesFrom()).contains(from)) {
      throw new AirlockException(Kind.BAD_INPUT, manifest.name() + " " + manifest.version() + " upgrades only from "
          + manifest.upgradesFrom() + "; " + installed.version() + " is installed", "upgrade in steps through a "
          + "version whose bundle accepts " + installed.version());
    }
  }

  /** The components to install: all but the optional ones left out; {@code leftOut} receives those. */
  private List<BundleManifest.Component> select(BundleManifest manifest, State.Installation installed,
      List<String> leftOut) {
    Set<String> skip = without != null ? without : installed != null ? Set.copyOf(installed.without()) : Set.of();
    List<BundleManifest.Component> selected = new ArrayList<>();
    for (String name : skip) {
      BundleManifest.Component c = manifest.components().stream().filter(x -> x.name().equals(name)).findFirst()
          .orElse(null);
      if (c == null) {
        if (without != null) {
          throw new AirlockException(Kind.BAD_INPUT, "--without " + name + ": this bundle has no such component",
              "the components are: " + String.join(", ", manifest.components().stream()
                  .map(BundleManifest.Component::name).toList()));
        }
        continue;
      }
      if (c.required()) {
        throw new AirlockException(Kind.BAD_INPUT, "component " + name + " is required and cannot be left out",
            "install it, or ask the vendor which components are optional ('airlock bundle inspect')");
      }
      if (installed != null && installed.components().stream().anyMatch(x -> x.name().equals(name))) {
        throw new AirlockException(Kind.BAD_INPUT, "component " + name + " is installed; --without does not remove "
            + "installed components", "keep it, or uninstall and install again without it");
      }
      leftOut.add(name);
    }
    for (BundleManifest.Component c : manifest.components()) {
      if (leftOut.contains(c.name())) {
        continue;
      }
      for (String dep : c.dependsOn()) {
        if (leftOut.contains(dep)) {
          throw new AirlockException(Kind.BAD_INPUT, "component " + c.name() + " depends on " + dep + ", which is "
              + "left out", "leave out " + c.name() + " too, or keep " + dep);
        }
      }
      selected.add(c);
    }
    return selected;
  }

  private List<ChartRenderer.Rendered> render(BundleManifest manifest, List<BundleManifest.Component> selected,
      Path work, String kubeVersion) {
    events.on(new Event.PhaseStarted("render", "Rendering " + selected.size() + " charts", -1));
    for (String name : overrides.keySet()) {
      if (manifest.components().stream().noneMatch(c -> c.name().equals(name))) {
        throw new AirlockException(Kind.BAD_INPUT, "--values names component '" + name + "', which this bundle "
            + "does not have", "the components are: " + String.join(", ", manifest.components().stream()
            .map(BundleManifest.Component::name).toList()));
      }
    }
    ChartRenderer renderer = new ChartRenderer(manifest, registry);
    TarIndex index = bundle.index();
    List<String> missing = new ArrayList<>();
    List<ChartRenderer.Rendered> out = new ArrayList<>();
    try {
      Path files = Files.createDirectories(work.resolve("bundle"));
      for (BundleManifest.Component c : selected) {
        Path chart = extract(index, c.chart().path(), c.chart().digest(), files);
        List<Path> values = new ArrayList<>();
        for (String v : c.values()) {
          values.add(extract(index, v, null, files));
        }
        out.add(renderer.render(c, chart, values, overrides.get(c.name()), work.resolve("rendered"), kubeVersion,
            missing));
      }
    } catch (IOException e) {
      throw new AirlockException(Kind.IO, "cannot unpack charts into " + work + ": " + e.getMessage(), null, e);
    }
    if (!missing.isEmpty()) {
      List<String> list = ChartRenderer.distinct(missing);
      throw new AirlockException(Kind.BAD_INPUT, list.size() + " image(s) in the rendered manifests are not in the "
          + "bundle, so the cluster would need the internet to pull them: " + String.join("; ", list),
          "ask the vendor for a bundle that includes them, or remove the --values that name them");
    }
    events.on(new Event.PhaseFinished("render", out.size() + " charts rendered; every image points at " + registry));
    return out;
  }

  private Path extract(TarIndex index, String entryName, String digest, Path dir) throws IOException {
    TarIndex.Entry entry = index.get(entryName);
    if (entry == null) {
      throw new AirlockException(Kind.VERIFICATION, "the bundle has no entry " + entryName + " although its "
          + "manifest names it", "the bundle is damaged: get a fresh copy");
    }
    byte[] bytes = bundle.readAll(entry);
    if (digest != null && !Digest.of(bytes).toString().equals(digest)) {
      throw new AirlockException(Kind.VERIFICATION, "bundle entry " + entryName + " does not match its digest "
          + digest, "the bundle is damaged: get a fresh copy and run 'airlock bundle verify'");
    }
    Path out = dir.resolve(entryName.replace('/', '_'));
    Files.write(out, bytes);
    return out;
  }

  /**
   * The cluster's version, so that charts render with the Capabilities Helm would give them; null when the API does
   * not answer (preflight then says so).
   */
  private String serverVersion() {
    try {
      return kube.client().getKubernetesVersion().getGitVersion();
    } catch (KubernetesClientException e) {
      return null;
    }
  }

  private boolean unchanged(State.Installation installed, List<ChartRenderer.Rendered> rendered) {
    Map<String, State.Component> by = new LinkedHashMap<>();
    installed.components().forEach(c -> by.put(c.name(), c));
    Releases helm = new Releases(kube);
    for (ChartRenderer.Rendered r : rendered) {
      State.Component c = by.get(r.component());
      if (c == null || !c.renderedDigest().equals(r.digest())) {
        return false;
      }
      Optional<Releases.Revision> latest = helm.latest(c.release(), c.namespace());
      if (latest.isEmpty() || latest.get().revision() != c.revision() || !"deployed".equals(latest.get().status())) {
        return false;
      }
    }
    return true;
  }

  private State.Component component(ChartRenderer.Rendered r, int revision) {
    return new State.Component(r.component(), r.namespace(), r.release(), revision, r.chartName(), r.chartVersion(),
        r.digest());
  }

  private void pullSecret(String ns) {
    Optional<Credentials> creds = registryOptions.credentials().lookup(registry.registry());
    StringBuilder auths = new StringBuilder("{\"auths\":{");
    if (creds.isPresent()) {
      String auth = Base64.getEncoder().encodeToString((creds.get().username() + ":" + creds.get().password())
          .getBytes(StandardCharsets.UTF_8));
      auths.append('"').append(registry.registry()).append("\":{\"auth\":\"").append(auth).append("\"}");
    }
    auths.append("}}");
    applySecret(new SecretBuilder().withNewMetadata().withName(ChartRenderer.PULL_SECRET).withNamespace(ns)
        .addToLabels(StateStore.LABEL_MANAGED_BY, "airlock").endMetadata().withType("kubernetes.io/dockerconfigjson")
        .addToData(".dockerconfigjson", Base64.getEncoder().encodeToString(auths.toString()
            .getBytes(StandardCharsets.UTF_8))).build(), "writing the image pull Secret");
  }

  /** Creates the Secret, or replaces the one of that name. */
  private void applySecret(Secret secret, String doing) {
    String ns = secret.getMetadata().getNamespace();
    String name = secret.getMetadata().getName();
    try {
      Secret existing = kube.client().secrets().inNamespace(ns).withName(name).get();
      if (existing == null) {
        kube.client().secrets().inNamespace(ns).resource(secret).create();
      } else {
        secret.getMetadata().setResourceVersion(existing.getMetadata().getResourceVersion());
        kube.client().secrets().inNamespace(ns).resource(secret).update();
      }
    } catch (KubernetesClientException e) {
      throw kube.failure(doing + " " + ns + "/" + name, e);
    }
  }

  private void storeLicense() {
    applySecret(new SecretBuilder().withNewMetadata().withName(LICENSE_SECRET).withNamespace(namespace)
        .addToLabels(StateStore.LABEL_MANAGED_BY, "airlock").endMetadata().withType("Opaque")
        .addToData("license.yaml", Base64.getEncoder().encodeToString(licenseYaml.getBytes(StandardCharsets.UTF_8)))
        .build(), "storing the license in");
  }

  /** Readiness can be waited for only where pods run: a cluster with at least one Ready node. */
  private boolean clusterRunsPods() {
    if (!waitReady) {
      return false;
    }
    try {
      for (Node n : kube.client().nodes().list().getItems()) {
        if (n.getStatus() != null && n.getStatus().getConditions() != null && n.getStatus().getConditions().stream()
            .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()))) {
          return true;
        }
      }
    } catch (KubernetesClientException e) {
      events.on(new Event.Log(Event.Level.WARN, "cannot list nodes (" + e.getCode() + "): waiting for readiness "
          + "anyway"));
      return true;
    }
    events.on(new Event.Log(Event.Level.WARN, "the cluster has no Ready node: releases are not waited for"));
    return false;
  }

  /**
   * Rolls back every component an upgrade changed, newest first, to its revision before the upgrade (or
   * uninstalls one the upgrade added), and records the outcome.
   */
  private AirlockException rollBack(Recorder rec, BundleManifest manifest, Map<String, State.Component> before,
      List<ChartRenderer.Rendered> upgraded, ChartRenderer.Rendered failedAt, AirlockException cause, Path work) {
    String reason = "release/" + failedAt.component() + " failed: " + cause.getMessage();
    rec.fail(reason);
    events.on(new Event.PhaseStarted("rollback", "Rolling back: " + reason, -1));
    List<ChartRenderer.Rendered> undo = new ArrayList<>(upgraded);
    undo.add(failedAt);
    java.util.Collections.reverse(undo);
    List<String> problems = new ArrayList<>();
    Releases helm = new Releases(kube);
    for (ChartRenderer.Rendered r : undo) {
      State.Component was = before.get(r.component());
      String phase = "rollback/" + r.component();
      rec.start(phase);
      try {
        if (was == null) {
          helm.uninstall(r.release(), r.namespace());
          rec.done(phase, "uninstalled " + r.release() + " (new in this upgrade)");
        } else {
          Release back = helm.rollback(r.release(), r.namespace(), was.revision(), work.resolve("rollback"),
              timeoutSeconds, false);
          rec.done(phase, r.release() + " back at revision " + was.revision() + " as revision "
              + back.getRevision());
        }
      } catch (AirlockException | KubernetesClientException e) {
        problems.add(r.release() + ": " + e.getMessage());
        rec.fail(e.getMessage());
      }
    }
    State.Installation inst = rec.state().installation();
    boolean complete = problems.isEmpty();
    List<State.Component> restored = new ArrayList<>();
    if (inst != null) {
      for (State.Component c : inst.components()) {
        int rev = new Releases(kube).latest(c.release(), c.namespace()).map(Releases.Revision::revision)
            .orElse(c.revision());
        restored.add(new State.Component(c.name(), c.namespace(), c.release(), rev, c.chart(), c.chartVersion(),
            c.renderedDigest()));
      }
      inst = new State.Installation(inst.product(), inst.version(), inst.bundleDigest(), inst.licenseId(),
          inst.registry(), inst.namespace(), inst.installedBy(), inst.installedAt(), complete ? "rolled-back"
          : "failed", reason, restored, inst.images(), inst.without());
    }
    State.Operation op = rec.op().finish(complete ? "rolled-back" : "rollback-incomplete", reason, clock.instant());
    rec.save(rec.state().withInstallation(inst).withOperation(op).archived());
    events.on(new Event.PhaseFinished("rollback", complete ? "every component is back at "
        + (inst == null ? "its previous revision" : inst.version()) : "rollback incomplete: "
        + String.join("; ", problems)));
    if (complete) {
      return new AirlockException(Kind.ROLLED_BACK, "upgrade to " + manifest.version() + " failed and was rolled back"
          + " (" + reason + ")", "the platform runs " + (inst == null ? "the previous version" : inst.version())
          + " as before; fix the cause and run the upgrade again", cause);
    }
    return new AirlockException(Kind.ROLLBACK_INCOMPLETE, "upgrade to " + manifest.version() + " failed ("
        + reason + ") and rolling back failed too: " + String.join("; ", problems), "run 'airlock rollback' to "
        + "retry, and 'airlock status' to see each release", cause);
  }

  /** Records phases of the running operation as they start and finish. */
  private final class Recorder {
    private final StateStore store;
    private final String product;
    private State state;

    Recorder(StateStore store, State state, String product) {
      this.store = store;
      this.state = state;
      this.product = product;
    }

    State.Operation op() {
      return state.operation();
    }

    State state() {
      return state;
    }

    void save(State s) {
      state = s;
      store.save(s, product);
    }

    void start(String phase) {
      start(phase, true);
    }

    void start(String phase, boolean announce) {
      if (announce) {
        events.on(new Event.PhaseStarted(phase, describe(phase), -1));
      }
      save(state.withOperation(op().with(new State.Phase(phase, "running", clock.instant(), null, null))));
    }

    void done(String phase, String detail) {
      State.Phase started = op().phases().stream().filter(p -> p.name().equals(phase)).findFirst().orElse(null);
      save(state.withOperation(op().with(new State.Phase(phase, "done", started == null ? clock.instant()
          : started.started(), clock.instant(), detail))));
      events.on(new Event.PhaseFinished(phase, detail));
    }

    void fail(String detail) {
      State.Phase running = op().phases().stream().filter(p -> "running".equals(p.status())).reduce((a, b) -> b)
          .orElse(null);
      if (running != null) {
        save(state.withOperation(op().with(new State.Phase(running.name(), "failed", running.started(),
            clock.instant(), detail))));
      }
    }
  }

  private static String describe(String phase) {
    if (phase.equals("push")) {
      return "Pushing images";
    }
    if (phase.startsWith("release/")) {
      return "Helm release for " + phase.substring(8);
    }
    if (phase.startsWith("rollback/")) {
      return "Rolling back " + phase.substring(9);
    }
    return phase;
  }

}
