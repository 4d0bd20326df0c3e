package dev.airlock.bundle.sbom;

import com.github.packageurl.MalformedPackageURLException;
import com.github.packageurl.PackageURL;
import java.util.Map;
import java.util.TreeMap;

/**
 * A package found in an image.
 *
 * @param type purl type: {@code deb}, {@code apk}, {@code maven}, {@code pypi}
 * @param namespace purl namespace: the distribution ({@code debian}, {@code alpine}) or the Maven group; null for pypi
 * @param name package name
 * @param version its version, as the database states it
 * @param arch architecture for OS packages, else null
 * @param path where in the image it was found (the database or the jar)
 */
public record CataloguedPackage(String type, String namespace, String name, String version, String arch,
    String path) {

  /** The package URL, e.g. {@code pkg:deb/debian/hostname@3.23?arch=amd64}. */
  public String purl() {
    try {
      Map<String, String> q = new TreeMap<>();
      if (arch != null && !arch.isEmpty()) {
        q.put("arch", arch);
      }
      return new PackageURL(type, namespace, name, version, q.isEmpty() ? null : new TreeMap<>(q), null)
          .canonicalize();
    } catch (MalformedPackageURLException e) {
      throw new IllegalArgumentException("no package URL for " + type + " " + name + " " + version + ": "
          + e.getMessage(), e);
    }
  }

  /** What identifies the package across versions: type, namespace, name, arch. */
  public String key() {
    return type + "/" + (namespace == null ? "" : namespace + "/") + name + (arch == null ? "" : "?arch=" + arch);
  }

  CataloguedPackage withNamespace(String ns) {
    return new CataloguedPackage(type, ns, name, version, arch, path);
  }
}
