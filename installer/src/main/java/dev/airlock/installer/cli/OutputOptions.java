package dev.airlock.installer.cli;

import picocli.CommandLine.Option;

/** {@code --output text|json} and {@code --verbose}, shared by every command. */
public class OutputOptions {

  /** How results and progress are printed. */
  public enum Format {
    text, json
  }

  @Option(names = "--output", paramLabel = "FORMAT", defaultValue = "text",
      description = "text (default) or json: one JSON object per line on stdout, for scripts")
  public Format output = Format.text;

  @Option(names = {"-v", "--verbose"}, description = "print detail messages too")
  public boolean verbose;

  public boolean json() {
    return output == Format.json;
  }
}
