package dev.airlock.bundle.spec;

import java.nio.file.Path;

/** Where a component's chart comes from. */
public sealed interface ChartSource {

  /** A chart directory (with Chart.yaml); packaged at build time. */
  record Directory(Path path) implements ChartSource {
    @Override
    public String toString() {
      return path.toString();
    }
  }

  /** An already packaged chart. */
  record Archive(Path path) implements ChartSource {
    @Override
    public String toString() {
      return path.toString();
    }
  }

  /**
   * A chart in an OCI registry: {@code oci://registry/path/name} at a version.
   *
   * @param registry registry host
   * @param repository repository path
   * @param version chart version (the OCI tag)
   */
  record Oci(String registry, String repository, String version) implements ChartSource {
    @Override
    public String toString() {
      return "oci://" + registry + "/" + repository + ":" + version;
    }
  }
}
