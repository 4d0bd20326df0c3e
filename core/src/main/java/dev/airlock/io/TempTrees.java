package dev.airlock.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;

/** Work directories airlock creates for itself and removes when done. */
public final class TempTrees {

  private TempTrees() {}

  /** Deletes {@code dir} and everything below it, as far as it can: these are airlock's own temporary files. */
  public static void delete(Path dir) {
    try (var walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // temporary files only; whatever is left is in the temp directory
    }
  }
}
