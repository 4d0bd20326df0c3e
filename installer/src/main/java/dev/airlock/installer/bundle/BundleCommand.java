package dev.airlock.installer.bundle;

import picocli.CommandLine.Command;

/** {@code airlock bundle ...}. */
@Command(name = "bundle", mixinStandardHelpOptions = true, description = "Build, verify, inspect, serve, push, split and "
    + "join bundles; show their SBOMs and what changes between two.",
    subcommands = {BuildCommand.class, VerifyCommand.class, InspectCommand.class, ServeCommand.class,
        PushCommand.class, SplitCommand.class, JoinCommand.class, SbomCommand.class, DiffCommand.class})
public class BundleCommand {}
