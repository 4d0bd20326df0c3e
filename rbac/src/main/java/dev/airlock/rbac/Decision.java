package dev.airlock.rbac;

import java.util.List;

/**
 * The outcome of a request: allowed or not, and why — the role and rule that decided, or the reason no rule did.
 *
 * @param role the deciding role, or null when nothing matched (default deny)
 * @param rule {@code allow[i]} or {@code deny[i]} within that role, or null
 * @param ruleText the rule as the file writes it, or null
 * @param roles the roles the user has
 */
public record Decision(boolean allowed, String role, String rule, String ruleText, String reason,
    List<String> roles) {

  public Decision {
    roles = List.copyOf(roles);
  }
}
