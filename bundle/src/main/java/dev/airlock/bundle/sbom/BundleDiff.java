package dev.airlock.bundle.sbom;

import dev.airlock.bundle.format.BundleFile;
import dev.airlock.bundle.format.BundleManifest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * What changes from one bundle to another: components (charts), images (by repository) and, from the SBOMs, the
 * packages of every image. {@code BundleDiff.between(old, new)}.
 *
 * @param from name and version of the old bundle
 * @param to name and version of the new one
 * @param components changed, added and removed components
 * @param images changed, added and removed images
 * @param packages per image (present in either bundle), the packages added, removed and changed
 */
public record BundleDiff(String from, String to, List<Change> components, List<Change> images,
    List<ImagePackages> packages) {

  public BundleDiff {
    components = List.copyOf(components);
    images = List.copyOf(images);
    packages = List.copyOf(packages);
  }

  /** {@code added}, {@code removed} or {@code changed}. */
  public enum What {
    ADDED, REMOVED, CHANGED;

    @com.fasterxml.jackson.annotation.JsonValue
    public String word() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /**
   * One difference.
   *
   * @param name what differs (component name, image repository, package name)
   * @param what added, removed or changed
   * @param before the old value; null when added
   * @param after the new value; null when removed
   */
  public record Change(String name, What what, String before, String after) {}

  /**
   * The package differences of one image.
   *
   * @param image the image's repository (or reference, when a bundle holds the repository under several tags)
   * @param changes packages added, removed and changed, by name
   * @param notes why the comparison is incomplete, when it is (a bundle without SBOMs)
   */
  public record ImagePackages(String image, List<Change> changes, List<String> notes) {
    public ImagePackages {
      changes = List.copyOf(changes);
      notes = List.copyOf(notes);
    }
  }

  /** True when nothing differs. */
  public boolean empty() {
    return components.isEmpty() && images.isEmpty() && packages.stream().allMatch(p -> p.changes().isEmpty());
  }

  public static BundleDiff between(BundleFile oldFile, BundleFile newFile) {
    BundleSboms a = BundleSboms.of(oldFile);
    BundleSboms b = BundleSboms.of(newFile);
    BundleManifest ma = a.manifest();
    BundleManifest mb = b.manifest();

    Map<String, String> ca = new LinkedHashMap<>();
    ma.components().forEach(c -> ca.put(c.name(), chart(c)));
    Map<String, String> cb = new LinkedHashMap<>();
    mb.components().forEach(c -> cb.put(c.name(), chart(c)));
    List<Change> components = compare(ca, cb);

    Map<String, BundleManifest.Image> ia = byKey(ma.images());
    Map<String, BundleManifest.Image> ib = byKey(mb.images());
    Map<String, String> va = new TreeMap<>();
    ia.forEach((k, i) -> va.put(k, i.ref() + "@" + i.digest()));
    Map<String, String> vb = new TreeMap<>();
    ib.forEach((k, i) -> vb.put(k, i.ref() + "@" + i.digest()));
    List<Change> images = compare(va, vb);

    List<ImagePackages> packages = new ArrayList<>();
    Set<String> keys = new LinkedHashSet<>(new TreeMap<>(ia).keySet());
    keys.addAll(new TreeMap<>(ib).keySet());
    for (String key : keys) {
      BundleManifest.Image x = ia.get(key);
      BundleManifest.Image y = ib.get(key);
      if (x != null && y != null && x.digest().equals(y.digest())) {
        continue; // the same image: the same packages
      }
      List<String> notes = new ArrayList<>();
      Map<String, String> pa = packages(a, x, oldFile, notes);
      Map<String, String> pb = packages(b, y, newFile, notes);
      List<Change> changes = compare(pa, pb);
      if (!changes.isEmpty() || !notes.isEmpty()) {
        packages.add(new ImagePackages(key, changes, notes));
      }
    }
    return new BundleDiff(ma.name() + " " + ma.version(), mb.name() + " " + mb.version(), components, images,
        packages);
  }

  private static String chart(BundleManifest.Component c) {
    return "chart " + c.chart().name() + " " + c.chart().version()
        + (c.chart().appVersion() == null ? "" : " (app " + c.chart().appVersion() + ")");
  }

  /** Images by repository; a repository present under several references is keyed by reference. */
  private static Map<String, BundleManifest.Image> byKey(List<BundleManifest.Image> images) {
    Map<String, Integer> count = new HashMap<>();
    images.forEach(i -> count.merge(BundleSboms.repository(i.ref()), 1, Integer::sum));
    Map<String, BundleManifest.Image> out = new LinkedHashMap<>();
    for (BundleManifest.Image i : images) {
      String repo = BundleSboms.repository(i.ref());
      out.putIfAbsent(count.get(repo) > 1 ? i.ref() : repo, i);
    }
    return out;
  }

  /** An image's packages by display name ({@code NAME} plus the arch or the Maven group), to version. */
  private static Map<String, String> packages(BundleSboms sboms, BundleManifest.Image image, BundleFile file,
      List<String> notes) {
    Map<String, String> out = new TreeMap<>();
    if (image == null) {
      return out;
    }
    var bytes = sboms.sbom(image);
    if (bytes.isEmpty()) {
      notes.add(file.path().getFileName() + " has no SBOM for " + image.ref() + " (built without SBOMs)");
      return out;
    }
    for (CycloneDx.Entry e : CycloneDx.components(bytes.get(), file.path() + ":" + image.sbom()).values()) {
      String type = e.purl().substring(4, e.purl().indexOf('/'));
      String arch = e.key().contains("?arch=") ? " (" + e.key().substring(e.key().indexOf("?arch=") + 6) + ")" : "";
      out.put(type + ":" + e.name() + arch, e.version());
    }
    return out;
  }

  private static List<Change> compare(Map<String, String> a, Map<String, String> b) {
    List<Change> out = new ArrayList<>();
    Set<String> names = new java.util.TreeSet<>(a.keySet());
    names.addAll(b.keySet());
    for (String n : names) {
      String x = a.get(n);
      String y = b.get(n);
      if (x == null) {
        out.add(new Change(n, What.ADDED, null, y));
      } else if (y == null) {
        out.add(new Change(n, What.REMOVED, x, null));
      } else if (!x.equals(y)) {
        out.add(new Change(n, What.CHANGED, x, y));
      }
    }
    return out;
  }
}
