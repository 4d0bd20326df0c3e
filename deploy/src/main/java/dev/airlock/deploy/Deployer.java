package dev.airlock.deploy;

import dev.airlock.airgap.push.ImagePusher;
import dev.airlock.airgap.push.RegistryTarget;
import dev.airlock.bundle.BundleVerifier;
import dev.airlock.bundle.format.BundleFile;
import dev.airlock.bundle.format.BundleManifest;
import dev.airlock.bundle.format.TarIndex;
import dev.airlock.deploy.plan.Plan;
import dev.airlock.deploy.plan.PlanRunner;
import dev.airlock.deploy.plan.Step;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.event.Event;
import dev.airlock.event.EventHandler;
import dev.airlock.kube.KubeTarget;
import dev.airlock.kube.Secrets;
import dev.airlock.kube.LeaseLock;
import dev.airlock.license.Decision;
import dev.airlock.license.Entitlements;
import dev.airlock.license.LicenseFile;
import dev.airlock.license.LicenseUpdates;
import dev.airlock.license.LicenseVerifier;
import dev.airlock.oci.Digest;
import dev.airlock.oci.RegistryOptions;
import dev.airlock.version.SemVer;
import dev.airlock.version.VersionRange;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

/**
 * Installs and upgrades a platform from a bundle as a {@link Plan} recorded in the cluster (ADR 5, ADR 9).
 *
 * <p>Read-only work first — verify, license, render, preflight — so bad input changes nothing. Then the plan: push,
 * pull Secrets, one Helm release per changed component in dependency order, record. Each step is recorded as it
 * completes; a killed run, run again, resumes after the last recorded step. An upgrade rolls back when a step fails:
 * every release it changed is restored as {@code helm rollback} would restore it, newest first.
 */
public final class Deployer {

  public static final String INSTALL = "install";
  public static final String UPGRADE = "upgrade";
  /** The Secret holding the license the installation runs under (so upgrades need no --license). */
  public static final String LICENSE_SECRET = "airlock-license";

  private final KubeTarget kube;
  private final String namespace;
  private Clock clock = Clock.systemUTC();
  private Predicate<Plan.View> confirm = plan -> true;
  private final List<EventHandler> handlers = new CopyOnWriteArrayList<>();
  private final EventHandler events = e -> handlers.forEach(h -> h.on(e));

  public Deployer(KubeTarget kube, String namespace) {
    this.kube = kube;
    this.namespace = namespace;
  }

  public Deployer clock(Clock c) {
    this.clock = c;
    return this;
  }

  /** Asked with the plan after the checks pass and before anything changes; false cancels (nothing changed). */
  public Deployer confirm(Predicate<Plan.View> c) {
    this.confirm = c;
    return this;
  }

  public Deployer addEventHandler(EventHandler h) {
    handlers.add(h);
    return this;
  }

  /** Installs or upgrades as the request says; resumes an interrupted operation of the same bundle. */
  public OperationResult run(DeployRequest request) {
    if (request.registry() == null && INSTALL.equals(request.kind())) {
      throw new AirlockException(Kind.BAD_INPUT, "no target registry", "pass --registry HOST[:PORT][/PREFIX]");
    }
    Path work = request.workDir();
    boolean ownWork = work == null;
    try (BundleFile bundle = BundleFile.open(request.bundle())) {
      if (ownWork) {
        work = Files.createTempDirectory("airlock-" + request.kind());
      }
      return new Run(request, bundle, work).go();
    } catch (IOException e) {
      throw new AirlockException(Kind.IO, "cannot create a work directory: " + e.getMessage(),
          "set TMPDIR to a writable directory", e);
    } finally {
      if (ownWork && work != null) {
        dev.airlock.io.TempTrees.delete(work);
      }
    }
  }

  /** One install or upgrade: the state it reads and the plan it builds. */
  private final class Run {
    private final DeployRequest req;
    private final String kind;
    private final BundleFile bundle;
    private final Path work;
    private BundleManifest manifest;
    private String digest;
    private RegistryTarget registry;
    private RegistryOptions registryOptions;
    private String licenseId;
    private String licenseYaml;
    private State state;
    private State.Installation installed;
    private final Map<String, State.Component> before = new LinkedHashMap<>();
    /** The values recorded for the installed version, per component (empty when none were). */
    private Map<String, Map<String, Object>> recordedValues = Map.of();
    /** The values this operation renders with: the recorded ones, with --values merged over them. */
    private Map<String, Map<String, Object>> values = Map.of();

    Run(DeployRequest req, BundleFile bundle, Path work) {
      this.req = req;
      this.kind = req.kind();
      this.bundle = bundle;
      this.work = work;
    }

    OperationResult go() {
      events.on(new Event.PhaseStarted(BundleVerifier.PHASE, "Verifying bundle " + bundle.path().getFileName(), -1));
      BundleVerifier.Verified verified = new BundleVerifier(req.roots(), clock, events).verify(bundle, false);
      manifest = verified.manifest();
      digest = Digest.of(bundle.readHead().manifestBytes()).toString();
      events.on(new Event.PhaseFinished(BundleVerifier.PHASE, manifest.name() + " " + manifest.version()
          + " signed by " + verified.signerKeyId() + " (root " + verified.rootKeyId() + ")"));

      StateStore store = new StateStore(kube, namespace);
      try {
        state = store.load().orElse(null);
      } catch (AirlockException e) {
        // An install (or its preflight) reports an API that does not answer as a failed check, with every other
        // check, rather than stopping here; an upgrade needs the record.
        if (!INSTALL.equals(kind) || e.kind() != Kind.REMOTE) {
          throw e;
        }
        events.on(new Event.Log(Event.Level.WARN, e.getMessage()));
        state = null;
      }
      installed = state == null ? null : state.installation();
      if (installed != null) {
        installed.components().forEach(c -> before.put(c.name(), c));
      }
      resolveRegistry();
      licenseId = license(SemVer.parse(manifest.version()));
      resolveValues();

      State.Operation resume = resumable();
      if (resume == null) {
        checkVersions();
      }
      List<String> leftOut = new ArrayList<>();
      List<ChartRenderer.Rendered> rendered = render(select(leftOut), serverVersion());

      if (resume == null && installed != null && installed.bundleDigest().equals(digest)
          && "installed".equals(installed.status()) && unchanged(rendered)) {
        String summary = manifest.name() + " " + manifest.version() + " is installed in " + namespace + " and "
            + "matches this bundle and these values: nothing to do";
        events.on(new Event.Log(Event.Level.INFO, summary));
        return new OperationResult(kind, false, req.dryRun(), summary, installed, List.of(), null, state.operation());
      }

      List<Check> checks = preflight(rendered);
      Plan plan = plan(rendered, leftOut);
      if (req.dryRun()) {
        return new OperationResult(kind, false, true, "dry run: " + plan.title(), installed, checks, plan.view(),
            null);
      }
      if (resume == null && !confirm.test(plan.view())) {
        throw new AirlockException(Kind.BAD_INPUT, kind + " cancelled; nothing was changed", null);
      }

      store.ensureNamespace(namespace, manifest.name());
      try (LeaseLock lock = LeaseLock.acquire(kube, namespace, kind, clock)) {
        state = store.load().orElse(null);
        Instant now = clock.instant();
        Map<String, String> releases = new LinkedHashMap<>();
        rendered.forEach(r -> releases.put(r.component(), r.namespace() + "/" + r.release()));
        State.Operation op = resume != null ? state.operation() : new State.Operation(OperationJournal.newId(kind,
            now), kind, installed == null ? null : installed.version(), manifest.version(), digest, kube.user(), now,
            null, "running", null, List.of(), releases);
        journal = OperationJournal.begin(store, state, op, plan, manifest.name(), clock);
        PlanRunner.Outcome outcome = new PlanRunner(journal, events, e -> e instanceof KubernetesClientException k
            ? kube.failure("running the " + kind, k) : new AirlockException(Kind.REMOTE, e.toString(), null, e))
            .run(plan);
        return finish(plan, outcome, checks);
      }
    }

    /**
     * The values to render with: those recorded for the installed version (given at its install or upgrade), with
     * this operation's --values merged over them; only --values with --reset-values.
     */
    private void resolveValues() {
      if (installed != null) {
        Optional<Map<String, Map<String, Object>>> recorded = InstalledValues.read(kube, namespace,
            installed.bundleDigest());
        recordedValues = recorded.orElse(Map.of());
        if (recorded.isEmpty() && req.overrides().isEmpty() && !req.resetValues()) {
          events.on(new Event.Log(Event.Level.WARN, "no values are recorded for the installed " + installed.version()
              + " (installed by an airlock that did not record --values): if it was installed with "
              + "--values, pass them again"));
        }
      }
      Map<String, Map<String, Object>> base = req.resetValues() ? Map.of() : recordedValues;
      Map<String, Map<String, Object>> merged = InstalledValues.mergeAll(base, req.overrides());
      for (String name : List.copyOf(merged.keySet())) {
        if (!req.overrides().containsKey(name) && manifest.components().stream().noneMatch(c -> c.name()
            .equals(name))) {
          merged.remove(name);
          events.on(new Event.Log(Event.Level.WARN, "the values recorded for component " + name + " are dropped: "
              + manifest.name() + " " + manifest.version() + " has no such component"));
        }
      }
      if (req.resetValues() && !recordedValues.isEmpty()) {
        events.on(new Event.Log(Event.Level.INFO, "--reset-values: the values recorded for components "
            + String.join(", ", recordedValues.keySet()) + " are not used"));
      }
      values = merged;
    }

    /** Each component's values diff against the installed version's, as plan lines. */
    private List<String> valuesDiff(String component) {
      return InstalledValues.diff(recordedValues.get(component), values.get(component));
    }

    /** The registry and how to reach it: the flags, else what the installation recorded, plus its pull Secret. */
    private void resolveRegistry() {
      registry = req.registry();
      registryOptions = req.registryOptions();
      if (registry == null) {
        if (installed == null) {
          throw new AirlockException(Kind.BAD_INPUT, "nothing is installed in namespace " + namespace,
              "install first with 'airlock install', or pass the right --namespace");
        }
        registry = RegistryTarget.parse(installed.registry());
      }
      if (installed != null && RegistryTarget.parse(installed.registry()).registry().equals(registry.registry())) {
        registryOptions = RecordedRegistry.options(installed, registryOptions, work);
        registryOptions = InventoryExport.withPullSecret(kube, namespace, registryOptions, registry.registry());
      }
    }

    /** The operation to resume: an unfinished one of this kind and bundle; refuses when another one is unfinished. */
    private State.Operation resumable() {
      State.Operation resume = null;
      if (state != null && state.operation() != null && state.operation().running()) {
        State.Operation op = state.operation();
        if (op.kind().equals(kind) && op.bundleDigest().equals(digest)) {
          resume = op;
          events.on(new Event.Log(Event.Level.WARN, "resuming the " + kind + " of " + manifest.name() + " "
              + manifest.version() + " that " + op.user() + " started at " + dev.airlock.text.Times.format(op.started()) + " (done: "
              + String.join(", ", op.phases().stream().filter(p -> State.DONE.equals(p.status()))
              .map(State.Phase::name).toList()) + ")"));
        } else {
          throw new AirlockException(Kind.BAD_INPUT, "an unfinished " + op.kind() + " to " + op.to() + " (started "
              + dev.airlock.text.Times.format(op.started()) + " by " + op.user() + ") holds this installation", "finish it by running that "
              + op.kind() + " again with the same bundle (it resumes), or 'airlock rollback' to undo it");
        }
      }
      if (resume == null && req.resumeOnly()) {
        throw new AirlockException(Kind.BAD_INPUT, "--resume: there is no unfinished " + kind + " of this bundle in "
            + namespace, "run the " + kind + " without --resume to start it; 'airlock plan show' shows the last one");
      }
      return resume;
    }

    private List<Check> preflight(List<ChartRenderer.Rendered> rendered) {
      events.on(new Event.PhaseStarted("preflight", "Preflight checks", -1));
      Preflight preflight = new Preflight(kube, bundle, registry, registryOptions, namespace, req.skipChecks());
      List<Check> checks = preflight.run(rendered, manifest.name());
      checks.forEach(c -> events.on(new Event.Checked(c.id(), c.status().label(), c.message(), c.fix())));
      List<Check> failed = checks.stream().filter(c -> c.status() == Check.Status.FAIL).toList();
      events.on(new Event.PhaseFinished("preflight", failed.isEmpty() ? checks.size() + " checks passed"
          + (checks.stream().anyMatch(c -> c.status() == Check.Status.WARN) ? " (with warnings)" : "")
          : failed.size() + " of " + checks.size() + " checks failed"));
      if (!failed.isEmpty()) {
        throw new AirlockException(Kind.PREFLIGHT, "preflight failed: " + String.join("; ", failed.stream()
            .map(c -> c.id() + ": " + c.message()).toList()), failed.size() == 1 ? failed.get(0).fix()
            : "fix each failed check (see above); nothing was changed")
            .with(AirlockException.CHECK, String.join(",", failed.stream().map(Check::id).toList()));
      }
      return checks;
    }

    /** The plan: push, pull Secrets, a release step per changed component, record. */
    private Plan plan(List<ChartRenderer.Rendered> rendered, List<String> leftOut) {
      events.on(new Event.PhaseStarted("plan", "Planning: what the registry lacks, what changes", -1));
      ImagePusher.Survey survey = ImagePusher.from(bundle).to(registry).registries(registryOptions)
          .parallelism(req.parallelism()).survey();
      List<Step> steps = new ArrayList<>();
      steps.add(Step.of("push", "push " + survey.blobs() + " blobs (" + survey.bytes() + " bytes) of "
          + survey.images() + " images to " + registry, null, this::push, null));
      Set<String> namespaces = new LinkedHashSet<>();
      rendered.forEach(r -> namespaces.add(r.namespace()));
      steps.add(Step.of("pull-secrets", "write image pull Secret " + ChartRenderer.PULL_SECRET + " in "
          + String.join(", ", namespaces), null, () -> pullSecrets(namespaces), null));
      boolean wait = req.waitReady() && clusterRunsPods();
      List<String> changing = new ArrayList<>();
      for (ChartRenderer.Rendered r : rendered) {
        State.Component was = before.get(r.component());
        if (was != null && was.renderedDigest().equals(r.digest())) {
          continue;
        }
        changing.add(r.component());
        List<String> diff = installed == null ? List.of() : valuesDiff(r.component());
        diff.forEach(d -> events.on(new Event.Log(Event.Level.INFO, "values of " + r.component() + ": " + d)));
        steps.add(new ReleaseStep(kube, r, was, manifest.name() + " " + manifest.version() + " (" + kind + ")",
            req.timeoutSeconds(), wait, work, diff, events));
      }
      steps.add(Step.of("record", "record " + manifest.name() + " " + manifest.version() + " as installed in "
          + namespace + " (history, license Secret " + LICENSE_SECRET + ")", null, () -> record(rendered, leftOut),
          null));
      String title = kind + " " + (installed == null || INSTALL.equals(kind) ? "" : installed.version() + " → ")
          + manifest.name() + " " + manifest.version() + " in " + namespace + ": push " + survey.blobs()
          + " blobs (" + survey.bytes() + " bytes) of " + survey.images() + " images to " + registry + "; releases: "
          + (changing.isEmpty() ? "none change" : String.join(", ", changing));
      events.on(new Event.PhaseFinished("plan", title));
      return new Plan(kind, title, UPGRADE.equals(kind) ? Plan.OnFailure.ROLL_BACK : Plan.OnFailure.RESUME, steps);
    }

    /** The last step: the new installation record (the earlier one kept for rollback) and the license Secret. */
    private String record(List<ChartRenderer.Rendered> rendered, List<String> leftOut) {
      Releases helm = new Releases(kube);
      List<State.Component> components = new ArrayList<>();
      Map<String, String> images = new LinkedHashMap<>();
      for (ChartRenderer.Rendered r : rendered) {
        images.putAll(r.images());
        Releases.Revision latest = helm.latest(r.release(), r.namespace()).orElseThrow(() ->
            new AirlockException(Kind.REMOTE, "release " + r.namespace() + "/" + r.release() + " is gone although "
                + "this " + kind + " installed it", "run the " + kind + " again"));
        components.add(new State.Component(r.component(), r.namespace(), r.release(), latest.revision(),
            r.chartName(), r.chartVersion(), r.digest()));
      }
      State.Installation installation = new State.Installation(manifest.name(), manifest.version(), digest,
          licenseId, registry.toString(), namespace, kube.user(), clock.instant(), "installed", null, components,
          images, leftOut, registryOptions.insecureHosts().contains(registry.registry()) ? Boolean.TRUE : null,
          RecordedRegistry.caPem(registryOptions));
      Secrets.apply(kube, Secrets.opaque(namespace, LICENSE_SECRET, Map.of("license.yaml", licenseYaml)),
          "storing the license in");
      List<String> keep = new ArrayList<>();
      journal.state().previous().forEach(p -> keep.add(p.bundleDigest()));
      if (installed != null) {
        keep.add(installed.bundleDigest());
      }
      InstalledValues.write(kube, namespace, digest, values, keep);
      State.Installation was = installed;
      journal.update(s -> {
        State next = s.withInstallation(installation);
        return was != null && !was.version().equals(installation.version()) ? next.remembering(was) : next;
      });
      return "recorded " + manifest.name() + " " + manifest.version() + ": " + components.size() + " releases ("
          + String.join(", ", components.stream().map(c -> c.release() + " r" + c.revision()).toList()) + ")";
    }

    private OperationJournal journal;

    private String push() {
      ImagePusher.Result pushed = ImagePusher.from(bundle).to(registry).registries(registryOptions)
          .parallelism(req.parallelism()).chunkSize(req.chunkSize()).addEventHandler(e -> {
            // The step itself is announced by the runner; the pusher's own phase events would repeat it.
            if (!(e instanceof Event.PhaseStarted) && !(e instanceof Event.PhaseFinished)) {
              events.on(e);
            }
          }).push();
      return pushed.blobsUploaded() + " blobs uploaded (" + pushed.bytesUploaded() + " bytes), "
          + pushed.blobsMounted() + " mounted, " + pushed.blobsPresent() + " present";
    }

    private String pullSecrets(Set<String> namespaces) {
      StateStore store = new StateStore(kube, namespace);
      for (String ns : namespaces) {
        store.ensureNamespace(ns, manifest.name());
        Secrets.apply(kube, RecordedRegistry.pullSecret(ns, registry.registry(),
            registryOptions.credentials().lookup(registry.registry())), "writing the image pull Secret");
      }
      return "image pull Secret " + ChartRenderer.PULL_SECRET + " in " + String.join(", ", namespaces);
    }

    /** Writes the outcome into the record: the operation's end, and after a failure the rolled-back installation. */
    private OperationResult finish(Plan plan, PlanRunner.Outcome outcome, List<Check> checks) {
      Releases helm = new Releases(kube);
      if (outcome.succeeded()) {
        journal.update(s -> s.withOperation(s.operation().finish("succeeded", null, clock.instant())).archived());
        State.Installation now = journal.state().installation();
        String from = journal.operation().from();
        String summary = (UPGRADE.equals(kind) && from != null ? "upgraded " + manifest.name() + " " + from + " → "
            : "installed " + manifest.name() + " ") + manifest.version() + " in " + namespace + ": "
            + now.components().size() + " releases (" + String.join(", ", now.components().stream()
            .map(c -> c.release() + " r" + c.revision()).toList()) + "), images in " + registry;
        return new OperationResult(kind, true, false, summary, now, checks, plan.view(), journal.operation());
      }
      String reason = outcome.failedStep() + " failed: " + outcome.cause().getMessage();
      if (plan.onFailure() == Plan.OnFailure.RESUME) {
        throw new AirlockException(outcome.cause().kind(), outcome.cause().getMessage(), "fix the cause and run the "
            + "same " + kind + " again: it resumes at " + outcome.failedStep(), outcome.cause())
            .with(AirlockException.STEP, outcome.failedStep());
      }
      boolean complete = outcome.rolledBack();
      State.Installation back = installed == null ? null : installed.withComponents(restored(helm),
          installed.installedBy(), installed.installedAt()).withStatus(complete ? "rolled-back" : "failed", reason);
      journal.update(s -> s.withInstallation(back).withOperation(s.operation().finish(complete ? "rolled-back"
          : "rollback-incomplete", reason, clock.instant())).archived());
      if (complete) {
        throw new AirlockException(Kind.ROLLED_BACK, kind + " to " + manifest.version() + " failed and was rolled "
            + "back (" + reason + ")", "the platform runs " + (installed == null ? "the previous version"
            : installed.version()) + " as before; fix the cause and run the " + kind + " again", outcome.cause())
            .with(AirlockException.STEP, outcome.failedStep());
      }
      throw new AirlockException(Kind.ROLLBACK_INCOMPLETE, kind + " to " + manifest.version() + " failed (" + reason
          + ") and rolling back failed too: " + String.join("; ", outcome.undoFailures()), "run 'airlock rollback' "
          + "to retry, and 'airlock status' to see each release", outcome.cause())
          .with(AirlockException.STEP, outcome.failedStep());
    }

    /** The installed components with the revisions Helm now has (a restore adds a revision). */
    private List<State.Component> restored(Releases helm) {
      List<State.Component> out = new ArrayList<>();
      for (State.Component c : installed.components()) {
        int rev = helm.latest(c.release(), c.namespace()).map(Releases.Revision::revision).orElse(c.revision());
        out.add(new State.Component(c.name(), c.namespace(), c.release(), rev, c.chart(), c.chartVersion(),
            c.renderedDigest()));
      }
      return out;
    }

    private String license(SemVer to) {
      events.on(new Event.PhaseStarted("license", "Checking the license", -1));
      Secret stored = installed == null ? null : kube.client().secrets().inNamespace(namespace)
          .withName(LICENSE_SECRET).get();
      LicenseFile storedFile = stored == null || stored.getData() == null
          || !stored.getData().containsKey("license.yaml") ? null : LicenseFile.parse(Base64.getDecoder().decode(
          stored.getData().get("license.yaml")), namespace + "/" + LICENSE_SECRET);
      LicenseFile file = req.license() != null ? LicenseFile.read(req.license()) : storedFile;
      if (file == null) {
        throw new AirlockException(Kind.LICENSE, "no license given" + (installed == null ? ""
            : " and none is stored in " + namespace + "/" + LICENSE_SECRET), "pass the license file from the "
            + "vendor with --license FILE");
      }
      licenseYaml = file.toYaml();
      Instant now = clock.instant();
      LicenseVerifier.Verified v = new LicenseVerifier(req.roots()).verify(file, now);
      if (storedFile != null && file != storedFile && !storedFile.license().id().equals(v.license().id())) {
        Decision replace = LicenseUpdates.check(storedFile.license(), v.license(),
            new Entitlements(v.license()).state(now));
        if (!replace.allowed()) {
          throw new AirlockException(Kind.LICENSE, replace.message(), "pass the current license from the vendor, "
              + "or leave out --license to keep the installed one");
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

    private void checkVersions() {
      SemVer to = SemVer.parse(manifest.version());
      if (INSTALL.equals(kind)) {
        if (installed != null && !installed.bundleDigest().equals(digest)
            && !installed.version().equals(manifest.version())) {
          throw new AirlockException(Kind.BAD_INPUT, installed.product() + " " + installed.version() + " is "
              + "installed in " + namespace + "; this bundle is " + manifest.version(), "upgrade with 'airlock "
              + "upgrade --bundle " + bundle.path() + "'");
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
      if (to.isBefore(from) && !req.allowDowngrade()) {
        throw new AirlockException(Kind.BAD_INPUT, "bundle " + manifest.version() + " is older than the installed "
            + installed.version() + ": a downgrade", "pass --allow-downgrade if you mean it, or use 'airlock "
            + "rollback'");
      }
      if (!to.isBefore(from) && manifest.upgradesFrom() != null && !from.equals(to)
          && !VersionRange.parse(manifest.upgradesFrom()).contains(from)) {
        throw new AirlockException(Kind.BAD_INPUT, manifest.name() + " " + manifest.version() + " upgrades only "
            + "from " + manifest.upgradesFrom() + "; " + installed.version() + " is installed", "upgrade in steps "
            + "through a version whose bundle accepts " + installed.version());
      }
    }

    /** The components to install: all but the optional ones left out; {@code leftOut} receives those. */
    private List<BundleManifest.Component> select(List<String> leftOut) {
      Set<String> without = req.without();
      Set<String> skip = without != null ? without : installed != null ? Set.copyOf(installed.without()) : Set.of();
      for (String name : skip) {
        BundleManifest.Component c = manifest.components().stream().filter(x -> x.name().equals(name)).findFirst()
            .orElse(null);
        if (c == null) {
          if (without != null) {
            throw new AirlockException(Kind.BAD_INPUT, "--without " + name + ": this bundle has no such component",
                "the components are: " + componentNames());
          }
          continue;
        }
        if (c.required()) {
          throw new AirlockException(Kind.BAD_INPUT, "component " + name + " is required and cannot be left out",
              "install it, or ask the vendor which components are optional ('airlock bundle inspect')");
        }
        if (installed != null && installed.component(name).isPresent()) {
          throw new AirlockException(Kind.BAD_INPUT, "component " + name + " is installed; --without does not "
              + "remove installed components", "keep it, or uninstall and install again without it");
        }
        leftOut.add(name);
      }
      List<BundleManifest.Component> selected = new ArrayList<>();
      for (BundleManifest.Component c : manifest.components()) {
        if (leftOut.contains(c.name())) {
          continue;
        }
        for (String dep : c.dependsOn()) {
          if (leftOut.contains(dep)) {
            throw new AirlockException(Kind.BAD_INPUT, "component " + c.name() + " depends on " + dep + ", which "
                + "is left out", "leave out " + c.name() + " too, or keep " + dep);
          }
        }
        selected.add(c);
      }
      return selected;
    }

    private String componentNames() {
      return String.join(", ", manifest.components().stream().map(BundleManifest.Component::name).toList());
    }

    private List<ChartRenderer.Rendered> render(List<BundleManifest.Component> selected, String kubeVersion) {
      events.on(new Event.PhaseStarted("render", "Rendering " + selected.size() + " charts", -1));
      for (String name : req.overrides().keySet()) {
        if (manifest.components().stream().noneMatch(c -> c.name().equals(name))) {
          throw new AirlockException(Kind.BAD_INPUT, "--values names component '" + name + "', which this bundle "
              + "does not have", "the components are: " + componentNames());
        }
      }
      ChartRenderer renderer = new ChartRenderer(manifest, registry, namespace);
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
          out.add(renderer.render(c, chart, values, this.values.get(c.name()), work.resolve("rendered"),
              kubeVersion, missing));
        }
      } catch (IOException e) {
        throw new AirlockException(Kind.IO, "cannot unpack charts into " + work + ": " + e.getMessage(), null, e);
      }
      if (!missing.isEmpty()) {
        List<String> list = ChartRenderer.distinct(missing);
        throw new AirlockException(Kind.BAD_INPUT, list.size() + " image(s) in the rendered manifests are not in "
            + "the bundle, so the cluster would need the internet to pull them: " + String.join("; ", list),
            "ask the vendor for a bundle that includes them, or remove the --values that name them");
      }
      events.on(new Event.PhaseFinished("render", out.size() + " charts rendered; every image points at "
          + registry));
      return out;
    }

    private Path extract(TarIndex index, String entryName, String entryDigest, Path dir) throws IOException {
      TarIndex.Entry entry = index.get(entryName);
      if (entry == null) {
        throw new AirlockException(Kind.VERIFICATION, "the bundle has no entry " + entryName + " although its "
            + "manifest names it", "the bundle is damaged: get a fresh copy").with(AirlockException.ENTRY,
            entryName);
      }
      byte[] bytes = bundle.readAll(entry);
      if (entryDigest != null && !Digest.of(bytes).toString().equals(entryDigest)) {
        throw new AirlockException(Kind.VERIFICATION, "bundle entry " + entryName + " does not match its digest "
            + entryDigest, "the bundle is damaged: get a fresh copy and run 'airlock bundle verify'")
            .with(AirlockException.ENTRY, entryName);
      }
      Path out = dir.resolve(entryName.replace('/', '_'));
      Files.write(out, bytes);
      return out;
    }

    private boolean unchanged(List<ChartRenderer.Rendered> rendered) {
      Releases helm = new Releases(kube);
      for (ChartRenderer.Rendered r : rendered) {
        State.Component c = before.get(r.component());
        if (c == null || !c.renderedDigest().equals(r.digest())) {
          return false;
        }
        Optional<Releases.Revision> latest = helm.latest(c.release(), c.namespace());
        if (latest.isEmpty() || latest.get().revision() != c.revision()
            || !Releases.DEPLOYED.equals(latest.get().status())) {
          return false;
        }
      }
      return true;
    }
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

  /** Readiness can be waited for only where pods run: a cluster with at least one Ready node. */
  private boolean clusterRunsPods() {
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
}
