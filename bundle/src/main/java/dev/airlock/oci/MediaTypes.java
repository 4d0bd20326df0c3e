package dev.airlock.oci;

import java.util.Set;

/** The media types airlock reads and writes. */
public final class MediaTypes {
  public static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
  public static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
  public static final String DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
  public static final String DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
  public static final String HELM_CHART_CONTENT = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";

  /** What we send in Accept when asking for a manifest. */
  public static final String MANIFEST_ACCEPT =
      String.join(", ", OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST);

  private static final Set<String> INDEXES = Set.of(OCI_INDEX, DOCKER_MANIFEST_LIST);
  private static final Set<String> MANIFESTS = Set.of(OCI_MANIFEST, DOCKER_MANIFEST);

  private MediaTypes() {}

  public static boolean isIndex(String mediaType) {
    return INDEXES.contains(mediaType);
  }

  public static boolean isManifest(String mediaType) {
    return MANIFESTS.contains(mediaType);
  }
}
