package dev.airlock.deploy;

import dev.airlock.airgap.push.RegistryTarget;
import dev.airlock.keys.TrustedRoots;
import dev.airlock.oci.RegistryOptions;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

/**
 * What an install or upgrade is asked to do: the command line's flags as one value.
 *
 * @param kind {@link Deployer#INSTALL} or {@link Deployer#UPGRADE}
 * @param license the license file; null to use the one stored with the installation (upgrades)
 * @param registry where the images go; null to use the installation's (upgrades)
 * @param registryOptions credentials and TLS for the registry; the installation's recorded settings and pull
 *     Secret fill in what is not given
 * @param overrides values per component name, applied after the bundle's values and over the values recorded at
 *     the installed version's install or upgrade
 * @param resetValues forget the recorded values: render with the bundle's values and {@code overrides} only
 * @param skipChecks preflight checks to skip, by id
 * @param without optional components to leave out; null keeps the installation's choice
 * @param dryRun run every check and return the plan; change nothing
 * @param waitReady wait for each release's workloads to become ready
 * @param timeoutSeconds time allowed for each release
 * @param parallelism blobs uploaded at once
 * @param chunkSize PATCH chunk size for uploads, 0 for the registry's choice
 * @param allowDowngrade allow a bundle older than the installed version
 * @param resumeOnly only finish an interrupted operation of this bundle
 * @param workDir scratch space; null for a temporary directory
 */
public record DeployRequest(String kind, Path bundle, TrustedRoots roots, Path license, RegistryTarget registry,
    RegistryOptions registryOptions, Map<String, Map<String, Object>> overrides, boolean resetValues,
    Set<String> skipChecks,
    Set<String> without, boolean dryRun, boolean waitReady, int timeoutSeconds, int parallelism, long chunkSize,
    boolean allowDowngrade, boolean resumeOnly, Path workDir) {

  public DeployRequest {
    overrides = overrides == null ? Map.of() : Map.copyOf(overrides);
    skipChecks = skipChecks == null ? Set.of() : Set.copyOf(skipChecks);
    without = without == null ? null : Set.copyOf(without);
    registryOptions = registryOptions == null ? RegistryOptions.defaults() : registryOptions;
  }

  public static Builder install(Path bundle, TrustedRoots roots) {
    return new Builder(Deployer.INSTALL, bundle, roots);
  }

  public static Builder upgrade(Path bundle, TrustedRoots roots) {
    return new Builder(Deployer.UPGRADE, bundle, roots);
  }

  public Builder toBuilder() {
    Builder b = new Builder(kind, bundle, roots);
    b.license = license;
    b.registry = registry;
    b.registryOptions = registryOptions;
    b.overrides = overrides;
    b.resetValues = resetValues;
    b.skipChecks = skipChecks;
    b.without = without;
    b.dryRun = dryRun;
    b.waitReady = waitReady;
    b.timeoutSeconds = timeoutSeconds;
    b.parallelism = parallelism;
    b.chunkSize = chunkSize;
    b.allowDowngrade = allowDowngrade;
    b.resumeOnly = resumeOnly;
    b.workDir = workDir;
    return b;
  }

  /** Builds a request; defaults: wait for readiness, 300 s per release, 4 uploads at once. */
  public static final class Builder {
    private final String kind;
    private final Path bundle;
    private final TrustedRoots roots;
    private Path license;
    private RegistryTarget registry;
    private RegistryOptions registryOptions = RegistryOptions.defaults();
    private Map<String, Map<String, Object>> overrides = Map.of();
    private boolean resetValues;
    private Set<String> skipChecks = Set.of();
    private Set<String> without;
    private boolean dryRun;
    private boolean waitReady = true;
    private int timeoutSeconds = 300;
    private int parallelism = 4;
    private long chunkSize;
    private boolean allowDowngrade;
    private boolean resumeOnly;
    private Path workDir;

    private Builder(String kind, Path bundle, TrustedRoots roots) {
      this.kind = kind;
      this.bundle = bundle;
      this.roots = roots;
    }

    public Builder license(Path l) {
      license = l;
      return this;
    }

    public Builder registry(RegistryTarget r, RegistryOptions o) {
      registry = r;
      registryOptions = o;
      return this;
    }

    public Builder registryOptions(RegistryOptions o) {
      registryOptions = o;
      return this;
    }

    public Builder overrides(Map<String, Map<String, Object>> o) {
      overrides = o;
      return this;
    }

    public Builder resetValues(boolean r) {
      resetValues = r;
      return this;
    }

    public Builder skipChecks(Set<String> s) {
      skipChecks = s;
      return this;
    }

    public Builder without(Set<String> w) {
      without = w;
      return this;
    }

    public Builder dryRun(boolean d) {
      dryRun = d;
      return this;
    }

    public Builder waitReady(boolean w) {
      waitReady = w;
      return this;
    }

    public Builder timeoutSeconds(int t) {
      timeoutSeconds = t;
      return this;
    }

    public Builder parallelism(int p) {
      parallelism = p;
      return this;
    }

    public Builder chunkSize(long c) {
      chunkSize = c;
      return this;
    }

    public Builder allowDowngrade(boolean a) {
      allowDowngrade = a;
      return this;
    }

    public Builder resumeOnly(boolean r) {
      resumeOnly = r;
      return this;
    }

    public Builder workDir(Path w) {
      workDir = w;
      return this;
    }

    public DeployRequest build() {
      return new DeployRequest(kind, bundle, roots, license, registry, registryOptions, overrides, resetValues, skipChecks,
          without,
          dryRun, waitReady, timeoutSeconds, parallelism, chunkSize, allowDowngrade, resumeOnly, workDir);
    }
  }
}
