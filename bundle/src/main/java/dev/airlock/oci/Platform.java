package dev.airlock.oci;

import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import java.util.ArrayList;
import java.util.List;

/** An {@code os/architecture[/variant]} triple, as in {@code linux/arm64/v8}. */
public record Platform(String os, String architecture, String variant) {

  public static Platform parse(String text) {
    String[] parts = text.strip().split("/");
    if (parts.length < 2 || parts.length > 3 || parts[0].isEmpty() || parts[1].isEmpty()) {
      throw new AirlockException(Kind.BAD_INPUT, "'" + text + "' is not a platform",
          "write platforms as os/architecture[/variant], e.g. linux/amd64,linux/arm64");
    }
    return new Platform(parts[0], parts[1], parts.length == 3 ? parts[2] : null);
  }

  public static List<Platform> parseList(String commaSeparated) {
    List<Platform> out = new ArrayList<>();
    for (String p : commaSeparated.split(",")) {
      if (!p.isBlank()) {
        out.add(parse(p));
      }
    }
    return List.copyOf(out);
  }

  /** True if {@code other} is this platform; a filter without a variant matches every variant. */
  public boolean matches(Platform other) {
    return os.equals(other.os) && architecture.equals(other.architecture)
        && (variant == null || variant.equals(other.variant));
  }

  @Override
  public String toString() {
    return os + "/" + architecture + (variant == null ? "" : "/" + variant);
  }
}
