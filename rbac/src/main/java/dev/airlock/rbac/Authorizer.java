package dev.airlock.rbac;

import dev.airlock.sso.RoleMapping;
import java.util.List;

/** Roles and mappings with the catalog that gives wildcards their meaning: the policy of any user. */
public final class Authorizer {

  private final RoleSet roles;
  private final Catalog catalog;

  public Authorizer(RoleSet roles, Catalog catalog) {
    this.roles = roles;
    this.catalog = catalog;
  }

  public RoleSet roleSet() {
    return roles;
  }

  public Catalog catalog() {
    return catalog;
  }

  /** The user's policy: the roles their groups, name and claims map to. */
  public Policy policy(User user) {
    List<String> names = RoleMapping.roles(roles.mappings(), user.identity());
    return new Policy(roles, catalog, user.username(), names);
  }
}
