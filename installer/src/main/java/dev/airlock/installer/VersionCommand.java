package dev.airlock.installer;

import dev.airlock.installer.cli.Console;
import dev.airlock.installer.cli.OutputOptions;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Mixin;

/** {@code airlock version}. */
@Command(name = "version", mixinStandardHelpOptions = true, description = "Print the airlock version and build.")
public class VersionCommand implements Callable<Integer> {

  @Mixin OutputOptions output;

  @Override
  public Integer call() {
    new Console(output).result("airlock " + BuildInfo.version() + " (built " + BuildInfo.built() + ", Java "
        + Runtime.version() + ")", Console.JSON.createObjectNode().put("version", BuildInfo.version())
        .put("built", BuildInfo.built()).put("java", Runtime.version().toString()));
    return 0;
  }

  /** For {@code airlock --version}. */
  public static class Provider implements IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"airlock " + BuildInfo.version() + " (built " + BuildInfo.built() + ")"};
    }
  }
}
