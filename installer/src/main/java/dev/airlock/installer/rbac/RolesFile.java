package dev.airlock.installer.rbac;

import dev.airlock.rbac.RoleSet;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code -f roles.yaml}: the RoleSet file. */
public class RolesFile {

  @Option(names = {"-f", "--file"}, paramLabel = "FILE", required = true,
      description = "the roles file (kind: RoleSet; docs/rbac.md)")
  Path file;

  RoleSet read() {
    return RoleSet.read(file);
  }
}
