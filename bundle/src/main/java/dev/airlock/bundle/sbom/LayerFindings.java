package dev.airlock.bundle.sbom;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What one layer holds for the SBOM: the package-bearing files it adds (by path), what it deletes from the layers
 * below (whiteouts), and notes on what was refused or skipped.
 *
 * @param files path in the image to what that file says (packages, or a distribution id for os-release)
 * @param whiteouts paths this layer deletes ({@code .wh.NAME})
 * @param opaqueDirs directories whose lower content this layer hides ({@code .wh..wh..opq})
 * @param notes what was refused or skipped, for people
 * @param bytes uncompressed bytes read
 */
public record LayerFindings(Map<String, FileFinding> files, Set<String> whiteouts, Set<String> opaqueDirs,
    List<String> notes, long bytes) {

  public LayerFindings {
    files = Map.copyOf(files);
    whiteouts = Set.copyOf(whiteouts);
    opaqueDirs = Set.copyOf(opaqueDirs);
    notes = List.copyOf(notes);
  }

  /** A layer that was not read (left out of a delta, an unsupported compression): only a note. */
  public static LayerFindings unread(String note) {
    return new LayerFindings(Map.of(), Set.of(), Set.of(), List.of(note), 0);
  }

  /**
   * One file's contribution.
   *
   * @param packages the packages it lists
   * @param distro for os-release files, the {@code ID}; else null
   */
  public record FileFinding(List<CataloguedPackage> packages, String distro) {
    public FileFinding {
      packages = List.copyOf(packages);
    }
  }
}
