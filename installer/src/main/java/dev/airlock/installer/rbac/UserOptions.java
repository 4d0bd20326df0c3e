package dev.airlock.installer.rbac;

import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.rbac.User;
import java.util.Arrays;
import java.util.List;
import picocli.CommandLine.Option;

/** {@code --user} and {@code --groups}: a user as their last login described them. */
public class UserOptions {

  @Option(names = "--user", paramLabel = "NAME", description = "the user's name, as the IdP gives it")
  String user;

  @Option(names = "--groups", paramLabel = "G1,G2", description = "the user's groups, comma-separated")
  String groups;

  boolean given() {
    return user != null;
  }

  User user() {
    if (user == null) {
      if (groups != null) {
        throw new AirlockException(Kind.BAD_INPUT, "--groups needs --user", "add --user NAME");
      }
      return null;
    }
    List<String> g = groups == null || groups.isBlank() ? List.of() : Arrays.stream(groups.split(","))
        .map(String::strip).filter(s -> !s.isEmpty()).toList();
    return new User(user, g);
  }
}
