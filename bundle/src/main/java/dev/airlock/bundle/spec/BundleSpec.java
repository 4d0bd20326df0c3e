package dev.airlock.bundle.spec;

import dev.airlock.oci.ImageReference;
import dev.airlock.oci.Platform;
import dev.airlock.version.SemVer;
import dev.airlock.version.VersionRange;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The parsed {@code bundle.yaml} ({@code apiVersion: airlock.dev/v1alpha1}, {@code kind: Bundle}). Paths are resolved
 * against the spec file's directory.
 *
 * @param name bundle name (a DNS label)
 * @param version the platform version this bundle installs
 * @param description one line for people
 * @param upgradesFrom installed versions this bundle may upgrade
 * @param kubernetes supported Kubernetes server versions
 * @param requirements what the cluster's nodes must have allocatable in total
 * @param mirrors registry mirrors used while building
 * @param platforms default platform filter for multi-arch images (empty: keep every platform)
 * @param components what gets installed, one Helm release each
 * @param images images to include beyond those found by rendering the charts
 * @param revocations a root-signed list of revoked signing keys to ship to installers, if any
 * @param specFile where the spec was read from
 * @param server how to build the airlock server component this bundle carries; empty: the bundle carries none
 * @param imagePolicy what every image's cosign signatures must satisfy ({@link ImagePolicy#off()} without one)
 */
public record BundleSpec(String name, SemVer version, String description, Optional<VersionRange> upgradesFrom,
    Optional<VersionRange> kubernetes, Requirements requirements, List<Mirror> mirrors, List<Platform> platforms,
    List<ComponentSpec> components, List<ImageReference> images, Optional<Path> revocations, Path specFile,
    Optional<ServerSpec> server, ImagePolicy imagePolicy) {

  public static final String API_VERSION = "airlock.dev/v1alpha1";
  public static final String KIND = "Bundle";

  public BundleSpec {
    mirrors = List.copyOf(mirrors);
    platforms = List.copyOf(platforms);
    components = List.copyOf(components);
    images = List.copyOf(images);
    imagePolicy = imagePolicy == null ? ImagePolicy.off() : imagePolicy;
  }

  /** A spec without an image policy. */
  public BundleSpec(String name, SemVer version, String description, Optional<VersionRange> upgradesFrom,
      Optional<VersionRange> kubernetes, Requirements requirements, List<Mirror> mirrors, List<Platform> platforms,
      List<ComponentSpec> components, List<ImageReference> images, Optional<Path> revocations, Path specFile,
      Optional<ServerSpec> server) {
    this(name, version, description, upgradesFrom, kubernetes, requirements, mirrors, platforms, components, images,
        revocations, specFile, server, ImagePolicy.off());
  }

  /** A spec whose bundle carries no airlock server. */
  public BundleSpec(String name, SemVer version, String description, Optional<VersionRange> upgradesFrom,
      Optional<VersionRange> kubernetes, Requirements requirements, List<Mirror> mirrors, List<Platform> platforms,
      List<ComponentSpec> components, List<ImageReference> images, Optional<Path> revocations, Path specFile) {
    this(name, version, description, upgradesFrom, kubernetes, requirements, mirrors, platforms, components, images,
        revocations, specFile, Optional.empty());
  }

  public BundleSpec withMirrors(List<Mirror> more) {
    List<Mirror> all = new java.util.ArrayList<>(more);
    all.addAll(mirrors);
    return new BundleSpec(name, version, description, upgradesFrom, kubernetes, requirements, all, platforms,
        components, images, revocations, specFile, server, imagePolicy);
  }

  /**
   * The airlock server component: its image is built by Jib from airlock's own jars on {@code baseImage} (a JRE,
   * pulled like any image, through the mirrors), its chart is airlock's own.
   *
   * @param baseImage the JRE base image (Java 17 or later), best named by digest
   * @param platform the one platform the image is built for
   * @param namespace where it is installed; null: the install's namespace
   */
  public record ServerSpec(ImageReference baseImage, Platform platform, String namespace) {
    /** The component's name, release name and the name its Kubernetes objects carry. */
    public static final String COMPONENT = "airlock-server";
  }

  /**
   * Resource requirements summed over the cluster's nodes.
   *
   * @param cpu Kubernetes CPU quantity, e.g. {@code 4} or {@code 500m}; empty when not stated
   * @param memory Kubernetes memory quantity, e.g. {@code 8Gi}; empty when not stated
   */
  public record Requirements(Optional<String> cpu, Optional<String> memory) {
    public static Requirements none() {
      return new Requirements(Optional.empty(), Optional.empty());
    }
  }

  /**
   * One installable part of the platform: one Helm chart, installed as one release.
   *
   * @param name component name (a DNS label)
   * @param required whether an install may leave it out
   * @param chart where the chart comes from
   * @param values values files, applied in order
   * @param namespace target namespace
   * @param releaseName Helm release name
   * @param dependsOn components to install first
   * @param images images of this component beyond those its chart renders
   */
  public record ComponentSpec(String name, boolean required, ChartSource chart, List<Path> values, String namespace,
      String releaseName, List<String> dependsOn, List<ImageReference> images) {
    public ComponentSpec {
      values = List.copyOf(values);
      dependsOn = List.copyOf(dependsOn);
      images = List.copyOf(images);
    }
  }
}
