package dev.airlock.bundle.sbom;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The packages of one platform of an image: its layers' findings stacked as the container runtime stacks them. */
public final class ImageCatalogue {

  /**
   * @param platform {@code os/arch[/variant]}, or empty when the manifest's config does not say
   * @param packages every package, sorted by purl, each once
   * @param notes what was skipped or refused, from every layer
   */
  public record PlatformPackages(String platform, List<CataloguedPackage> packages, List<String> notes) {
    public PlatformPackages {
      packages = List.copyOf(packages);
      notes = List.copyOf(notes);
    }
  }

  private ImageCatalogue() {}

  /**
   * Applies each layer over the ones below: its whiteouts and opaque directories delete what lower layers put
   * there, and a file it holds replaces the same path below (a package database rewritten in a later layer: the
   * last one wins).
   */
  public static PlatformPackages merge(String platform, List<LayerFindings> layers) {
    Map<String, LayerFindings.FileFinding> state = new TreeMap<>();
    List<String> notes = new ArrayList<>();
    for (LayerFindings l : layers) {
      for (String dir : l.opaqueDirs()) {
        state.keySet().removeIf(p -> dir.isEmpty() || p.startsWith(dir + "/"));
      }
      for (String w : l.whiteouts()) {
        state.keySet().removeIf(p -> p.equals(w) || p.startsWith(w + "/"));
      }
      state.putAll(l.files());
      notes.addAll(l.notes());
    }
    String distro = null;
    for (String p : List.of("usr/lib/os-release", "etc/os-release")) {
      LayerFindings.FileFinding f = state.get(p);
      if (f != null && f.distro() != null) {
        distro = f.distro();
      }
    }
    Map<String, CataloguedPackage> byPurl = new LinkedHashMap<>();
    for (LayerFindings.FileFinding f : state.values()) {
      for (CataloguedPackage p : f.packages()) {
        CataloguedPackage q = p;
        if (p.type().equals("deb")) {
          q = p.withNamespace(distro != null ? distro : "debian");
        } else if (p.type().equals("apk")) {
          q = p.withNamespace(distro != null ? distro : "alpine");
        }
        byPurl.putIfAbsent(q.purl(), q);
      }
    }
    List<CataloguedPackage> sorted = new ArrayList<>(byPurl.values());
    sorted.sort(Comparator.comparing(CataloguedPackage::purl));
    return new PlatformPackages(platform, sorted, notes);
  }
}
