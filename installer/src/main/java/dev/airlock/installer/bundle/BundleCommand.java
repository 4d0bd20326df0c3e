package dev.airlock.installer.bundle;

import picocli.CommandLine.Command;

/** {@code airlock bundle ...}. */
@Command(name = "bundle", mixinStandardHelpOptions = true, description = "Build, verify, inspect and serve bundles.",
    subcommands = {BuildCommand.class, VerifyCommand.class, InspectCommand.class, ServeCommand.class})
public class BundleCommand {}
