package dev.airlock.installer.sso;

import picocli.CommandLine.Command;

/** {@code airlock sso ...}. */
@Command(name = "sso", mixinStandardHelpOptions = true, description = "Try single sign-on connectors (OIDC, SAML) "
    + "and give identity providers airlock's SAML metadata.", subcommands = {SsoTestCommand.class,
        SsoMetadataCommand.class})
public class SsoCommand {}
