package dev.airlock.installer.rbac;

import dev.airlock.installer.cli.Console;
import dev.airlock.installer.cli.OutputOptions;
import dev.airlock.rbac.Catalog;
import dev.airlock.rbac.RoleSet;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code airlock rbac validate}: the file, offline. */
@Command(name = "validate", mixinStandardHelpOptions = true, description = {"Check a roles file offline: syntax, "
    + "fields, templates, the flag for permission-changing rules, mappings naming defined roles, and each rule's "
    + "resources against Kubernetes 1.32's (unknown ones are warnings: CRDs may come later). Exit 0 or 2."})
public class RbacValidateCommand implements Callable<Integer> {

  @Mixin RolesFile roles;
  @Mixin OutputOptions output;

  record Valid(String file, int roles, int mappings, List<String> warnings) {}

  @Override
  public Integer call() {
    Console console = new Console(output);
    RoleSet set = roles.read();
    List<String> warnings = set.check(Catalog.builtIn());
    if (!console.json()) {
      warnings.forEach(w -> System.err.println("warning: " + w));
    }
    console.result(roles.file + ": " + set.roles().size() + " roles, " + set.mappings().size() + " mappings: valid",
        new Valid(roles.file.toString(), set.roles().size(), set.mappings().size(), warnings));
    return 0;
  }
}
