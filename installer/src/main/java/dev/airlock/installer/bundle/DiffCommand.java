package dev.airlock.installer.bundle;

import dev.airlock.bundle.format.BundleFile;
import dev.airlock.bundle.sbom.BundleDiff;
import dev.airlock.installer.cli.Console;
import dev.airlock.installer.cli.OutputOptions;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code airlock bundle diff OLD NEW}. */
@Command(name = "diff", mixinStandardHelpOptions = true, description = {"What changes from one bundle to another: "
    + "components (charts), images (by repository) and, from the SBOMs, every image's packages added, removed and "
    + "changed. Reads only the heads and the SBOM entries."})
public class DiffCommand implements Callable<Integer> {

  @Parameters(index = "0", paramLabel = "OLD", description = "the bundle installed now (or the older one)")
  Path oldFile;

  @Parameters(index = "1", paramLabel = "NEW", description = "the bundle to compare it with")
  Path newFile;

  @Mixin OutputOptions output;

  @Override
  public Integer call() {
    Console console = new Console(output);
    try (BundleFile a = BundleFile.open(oldFile); BundleFile b = BundleFile.open(newFile)) {
      BundleDiff d = BundleDiff.between(a, b);
      StringBuilder t = new StringBuilder(d.from() + " -> " + d.to() + "\n");
      section(t, "Components", d.components());
      section(t, "Images", d.images());
      t.append("\nPackages:\n");
      if (d.packages().isEmpty()) {
        t.append("  (no changes)\n");
      }
      for (BundleDiff.ImagePackages p : d.packages()) {
        t.append("  ").append(p.image()).append('\n');
        for (BundleDiff.Change c : p.changes()) {
          t.append("    ").append(line(c)).append('\n');
        }
        p.notes().forEach(n -> t.append("    note: ").append(n).append('\n'));
      }
      console.result(t.toString().stripTrailing(), d);
    }
    return 0;
  }

  private static void section(StringBuilder t, String title, List<BundleDiff.Change> changes) {
    t.append('\n').append(title).append(":\n");
    if (changes.isEmpty()) {
      t.append("  (no changes)\n");
    }
    changes.forEach(c -> t.append("  ").append(line(c)).append('\n'));
  }

  private static String line(BundleDiff.Change c) {
    return switch (c.what()) {
      case ADDED -> "+ " + c.name() + "  " + c.after();
      case REMOVED -> "- " + c.name() + "  " + c.before();
      case CHANGED -> "~ " + c.name() + "  " + c.before() + " -> " + c.after();
    };
  }
}
