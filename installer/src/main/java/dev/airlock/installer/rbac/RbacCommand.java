package dev.airlock.installer.rbac;

import picocli.CommandLine.Command;

/** {@code airlock rbac ...}. */
@Command(name = "rbac", mixinStandardHelpOptions = true, description = "Platform roles: check a roles file, apply "
    + "it to a cluster as Kubernetes RBAC, show what would change, and explain a decision.",
    subcommands = {RbacValidateCommand.class, RbacApplyCommand.class, RbacDiffCommand.class,
        RbacExplainCommand.class})
public class RbacCommand {}
