package dev.airlock.rbac;

import java.util.List;
import java.util.Map;

/** A registry rule: repository globs (with {@code {{user}}} templates) and the actions pull, push, delete. */
public record RegistryRule(List<String> repositories, List<String> actions) {

  public static final List<String> ACTIONS = List.of("pull", "push", "delete");

  public RegistryRule {
    repositories = List.copyOf(repositories);
    actions = List.copyOf(actions);
  }

  public String describe() {
    return "{repositories: " + KubeRule.list(repositories) + ", actions: " + KubeRule.list(actions) + "}";
  }

  Map<String, Object> toMap() {
    return Map.of("repositories", repositories, "actions", actions);
  }
}
