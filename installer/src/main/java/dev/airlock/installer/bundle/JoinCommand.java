package dev.airlock.installer.bundle;

import dev.airlock.bundle.BundleSplitter;
import dev.airlock.installer.cli.Console;
import dev.airlock.installer.cli.OutputOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code airlock bundle join}. */
@Command(name = "join", mixinStandardHelpOptions = true, description = {"Join a split bundle's parts into one file, "
    + "checking each part against the part list. Not needed to use the parts: every command reads them directly."})
public class JoinCommand implements Callable<Integer> {

  @Parameters(index = "0", paramLabel = "FIRST-PART", description = "the first part, the part list, or their "
      + "directory")
  Path first;

  @Option(names = {"-o", "--out"}, required = true, paramLabel = "FILE", description = "the single file to write")
  Path out;

  @Option(names = "--force", description = "replace FILE if it exists")
  boolean force;

  @Mixin OutputOptions output;

  @Override
  public Integer call() throws Exception {
    Console console = new Console(output);
    Path written = BundleSplitter.join(first, out, force, console);
    long size = Files.size(written);
    console.result("joined " + first + " into " + written + " (" + Console.bytes(size) + ")",
        Console.JSON.createObjectNode().put("file", written.toString()).put("size", size));
    return 0;
  }
}
