package dev.airlock.io;

import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;

/** Writes small files so that no reader ever sees half of one: a temporary file beside the target, then a rename. */
public final class AtomicFiles {

  private AtomicFiles() {}

  /**
   * Writes {@code content} to {@code target}.
   *
   * @param secret create the file readable by its owner only (0600)
   * @param replace whether an existing target may be replaced; if not, an existing target is an error
   */
  public static void write(Path target, String content, boolean secret, boolean replace) {
    if (!replace && Files.exists(target)) {
      throw new AirlockException(Kind.BAD_INPUT, target + " already exists; airlock does not overwrite it",
          "choose another file name or move the old file away");
    }
    Path dir = target.toAbsolutePath().getParent();
    try {
      Files.createDirectories(dir);
      Path tmp = Files.createTempFile(dir, "." + target.getFileName(), ".tmp",
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(secret ? "rw-------" : "rw-r--r--")));
      try {
        Files.writeString(tmp, content, StandardCharsets.UTF_8);
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } finally {
        Files.deleteIfExists(tmp);
      }
    } catch (IOException e) {
      throw new AirlockException(Kind.IO, "cannot write " + target + ": " + e.getMessage(),
          "check that the directory exists and is writable", e);
    }
  }
}
