package dev.airlock.sso;

import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Function;

/**
 * A secret named, never written, in a config file: {@code {env: NAME}} (an environment variable) or
 * {@code {file: PATH}} (a file, relative to the config). The value is read when needed and never logged.
 */
public record SecretRef(String env, Path file) {

  /** Reads the secret; {@code environment} is the process environment (a parameter, for tests). */
  public String resolve(Function<String, String> environment) {
    if (env != null) {
      String v = environment.apply(env);
      if (v == null || v.isEmpty()) {
        throw new AirlockException(Kind.BAD_INPUT, "the secret in environment variable " + env + " is not set",
            "export " + env + " before running airlock");
      }
      return v;
    }
    try {
      return Files.readString(file, StandardCharsets.UTF_8).strip();
    } catch (IOException e) {
      throw new AirlockException(Kind.BAD_INPUT, "cannot read the secret file " + file + " ("
          + e.getClass().getSimpleName() + ")", "check the path and its permissions").with(AirlockException.FILE, file);
    }
  }

  public String resolve() {
    return resolve(System::getenv);
  }

  /** Where the secret comes from, for messages (never the value). */
  public String describe() {
    return env != null ? "environment variable " + env : "file " + file;
  }

  static Map<String, String> none() {
    return Map.of();
  }
}
