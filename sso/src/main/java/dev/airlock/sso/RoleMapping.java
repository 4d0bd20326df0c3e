package dev.airlock.sso;

import dev.airlock.text.Glob;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * One mapping rule, to platform role names, for whoever matches: an IdP group ({@code group}), a user
 * ({@code user}), or any other claim or attribute value ({@code claim} + {@code value}); each exact or a glob. A
 * user's roles are the union of every rule that matches.
 */
public record RoleMapping(String group, String user, String claim, String value, List<String> roles) {

  public RoleMapping {
    roles = List.copyOf(roles);
  }

  public boolean matches(Identity id) {
    if (user != null) {
      return Glob.matches(user, id.username());
    }
    if (claim != null) {
      Glob g = Glob.of(value);
      return id.attributes().getOrDefault(claim, List.of()).stream().anyMatch(g::matches);
    }
    Glob g = Glob.of(group);
    return id.groups().stream().anyMatch(g::matches);
  }

  /** The roles of an identity under these rules, in rule order, each once. */
  public static List<String> roles(List<RoleMapping> rules, Identity id) {
    LinkedHashSet<String> out = new LinkedHashSet<>();
    for (RoleMapping r : rules) {
      if (r.matches(id)) {
        out.addAll(r.roles());
      }
    }
    return List.copyOf(out);
  }

  /** Who the rule is for, for messages: {@code group devs}, {@code user alice}, {@code department=eng*}. */
  public String subject() {
    return user != null ? "user " + user : claim != null ? claim + "=" + value : "group " + group;
  }
}
