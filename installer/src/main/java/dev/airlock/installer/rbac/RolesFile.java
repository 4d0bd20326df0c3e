package dev.airlock.installer.rbac;

import dev.airlock.rbac.RoleSet;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code -f roles.yaml}: the RoleSet file. */
public class RolesFile {

  @Option(names = {"-f", "--file"}, paramLabel = "FILE", required = true,
      description = "the roles file (kind: RoleSet; docs/rbac.md)")
  Path file;

  /** The file's text, as stored for people to read (the console's roles page). */
  String text() {
    try {
      return java.nio.file.Files.readString(file);
    } catch (java.io.IOException e) {
      throw new dev.airlock.error.AirlockException(dev.airlock.error.AirlockException.Kind.IO, "cannot read "
          + file + ": " + e.getMessage(), null, e);
    }
  }

  RoleSet read() {
    return RoleSet.read(file);
  }
}
