package dev.airlock.installer.bundle;

import dev.airlock.bundle.BundleSplitter;
import dev.airlock.bundle.format.PartSize;
import dev.airlock.installer.cli.Console;
import dev.airlock.installer.cli.OutputOptions;
import dev.airlock.installer.cli.SigningOptions;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code airlock bundle split}. */
@Command(name = "split", mixinStandardHelpOptions = true, description = {"Split an existing bundle into parts of at "
    + "most SIZE for removable media, with their signed part list, without rebuilding it. The parts together are "
    + "the bundle byte for byte; every command takes the first part."})
public class SplitCommand implements Callable<Integer> {

  @Parameters(index = "0", paramLabel = "BUNDLE", description = "the bundle (a single file, or parts to re-split)")
  Path bundle;

  @Option(names = "--part-size", required = true, paramLabel = "SIZE",
      description = "largest part: 4GiB, 4.7GB, 25GB, 700MiB, or a medium: fat32, dvd, dvd-dl, bd, bd-dl")
  String partSize;

  @Option(names = {"-o", "--out"}, paramLabel = "DIR", description = "where the parts go (default: beside BUNDLE)")
  Path out;

  @Option(names = "--force", description = "replace parts of the same name in DIR (parts the new set does not have "
      + "are deleted)")
  boolean force;

  @Mixin SigningOptions signingOptions;
  @Mixin OutputOptions output;

  @Override
  public Integer call() {
    Console console = new Console(output);
    PartSize size = PartSize.parse(partSize);
    BundleSplitter.Result r = BundleSplitter.split(bundle).partSize(size).into(out).force(force)
        .signWith(signingOptions.load()).addEventHandler(console).run();
    console.result(PartsOutput.text(r), PartsOutput.json(r));
    return 0;
  }
}
