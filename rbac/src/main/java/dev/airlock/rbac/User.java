package dev.airlock.rbac;

import dev.airlock.sso.Identity;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** A platform user as RBAC sees them: the username and the groups (and other claims) of their last login. */
public record User(String username, List<String> groups, Map<String, List<String>> attributes) {

  public User {
    groups = List.copyOf(groups);
    attributes = Map.copyOf(attributes);
  }

  public User(String username, List<String> groups) {
    this(username, groups, Map.of());
  }

  public static User of(Identity id) {
    return new User(id.username(), id.groups(), id.attributes());
  }

  /** As an identity, for the role mappings. */
  public Identity identity() {
    return new Identity("rbac", username, username, null, null, groups, Instant.EPOCH, Instant.EPOCH, attributes);
  }
}
