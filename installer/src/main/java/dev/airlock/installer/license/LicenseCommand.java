package dev.airlock.installer.license;

import picocli.CommandLine.Command;

/** {@code airlock license ...}. */
@Command(name = "license", mixinStandardHelpOptions = true, description = "Issue, verify and inspect licenses.",
    subcommands = {IssueCommand.class, VerifyLicenseCommand.class, InspectLicenseCommand.class})
public class LicenseCommand {}
