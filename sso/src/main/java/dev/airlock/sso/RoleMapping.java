package dev.airlock.sso;

import dev.airlock.text.Glob;
import java.util.List;

/**
 * One mapping rule: an IdP group (exact or glob) or a user, to platform role names. A user's roles are the union of
 * every rule that matches.
 */
public record RoleMapping(String group, String user, List<String> roles) {

  public RoleMapping {
    roles = List.copyOf(roles);
  }

  public boolean matches(Identity id) {
    if (user != null) {
      return Glob.matches(user, id.username());
    }
    Glob g = Glob.of(group);
    return id.groups().stream().anyMatch(g::matches);
  }

  /** The roles of an identity under these rules, in rule order, each once. */
  public static List<String> roles(List<RoleMapping> rules, Identity id) {
    java.util.LinkedHashSet<String> out = new java.util.LinkedHashSet<>();
    for (RoleMapping r : rules) {
      if (r.matches(id)) {
        out.addAll(r.roles());
      }
    }
    return List.copyOf(out);
  }
}
