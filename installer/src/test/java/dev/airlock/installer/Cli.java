package dev.airlock.installer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs the real {@code ./airlock} launcher as a user would, and captures what it prints. */
final class Cli {

  static final Path LAUNCHER = Path.of(System.getProperty("airlock.launcher", "../airlock")).toAbsolutePath();
  static final Path REPO = Path.of(System.getProperty("airlock.repo.root", "..")).toAbsolutePath().normalize();

  /** What one run printed and returned. */
  record Run(int exit, String out, String err) {
    List<String> outLines() {
      return out.lines().toList();
    }

    @Override
    public String toString() {
      return "exit " + exit + "\n--- stdout\n" + out + "\n--- stderr\n" + err;
    }
  }

  private Cli() {}

  static Run run(Path workDir, String stdin, Map<String, String> env, String... args) {
    Process p = start(workDir, env, args);
    try {
      if (stdin != null) {
        p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
      }
      p.getOutputStream().close();
      if (!p.waitFor(5, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        throw new AssertionError("airlock " + String.join(" ", args) + " did not finish in 5 minutes");
      }
      return new Run(p.exitValue(), Files.readString(workDir.resolve(".out")), Files.readString(workDir.resolve(
          ".err")));
    } catch (IOException e) {
      throw new AssertionError(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  static Run run(Path workDir, String... args) {
    return run(workDir, null, Map.of(), args);
  }

  /** Starts airlock; stdout goes to {@code workDir/.out}, stderr to {@code workDir/.err}. */
  static Process start(Path workDir, Map<String, String> env, String... args) {
    List<String> cmd = new ArrayList<>();
    // As from a terminal: SIGINT and SIGTERM at their defaults, even when this JVM was started with them ignored
    // (a background job), since a process that starts with a signal ignored cannot take it.
    cmd.addAll(List.of("env", "--default-signal=INT,TERM"));
    cmd.add(LAUNCHER.toString());
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(workDir.toFile())
        .redirectOutput(workDir.resolve(".out").toFile()).redirectError(workDir.resolve(".err").toFile());
    pb.environment().put("AIRLOCK_CACHE_DIR", workDir.resolve(".cache").toString());
    pb.environment().putAll(env);
    try {
      return pb.start();
    } catch (IOException e) {
      throw new AssertionError("cannot start " + LAUNCHER, e);
    }
  }
}
