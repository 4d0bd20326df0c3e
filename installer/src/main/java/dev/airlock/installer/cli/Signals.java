package dev.airlock.installer.cli;

import dev.airlock.io.Cancellation;
import java.io.PrintStream;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import sun.misc.Signal;

/**
 * Ctrl-C and SIGTERM stop a command promptly and leave what a re-run needs. The JVM's default reaction (run the
 * shutdown hooks) would wait for the command to finish — Quarkus's shutdown hook waits for the application — so
 * airlock handles both signals itself: it marks the operation cancelled ({@link Cancellation}), interrupts the
 * command, and if the command has not unwound within {@link #GRACE_MILLIS} (a Helm call in native code cannot be
 * interrupted), says how to resume and halts. Either way the exit code is 130 (SIGINT) or 143 (SIGTERM). A second
 * signal halts at once.
 */
public final class Signals {

  static final long GRACE_MILLIS = 1500;

  /** What a re-run does after a stop, per command. */
  private static final Map<String, String> RESUME = Map.of(
      "airlock bundle build", "the partial file and its journal are kept beside the target: run the same command "
          + "again to resume; nothing was written under the target name",
      "airlock bundle push", "blobs already pushed stay in the registry: run the same command again to finish",
      "airlock install", "the plan is recorded in the cluster: run the same command again to resume ('airlock plan "
          + "show' shows where it stopped)",
      "airlock upgrade", "the plan is recorded in the cluster: run the same command again to resume, or 'airlock "
          + "rollback' to undo it ('airlock plan show' shows where it stopped)",
      "airlock rollback", "the plan is recorded in the cluster: run 'airlock rollback' again to finish it",
      "airlock uninstall", "the plan is recorded in the cluster: run 'airlock uninstall' again to finish it",
      "airlock bundle serve", "stopped serving; nothing to resume");

  private static volatile Thread command;
  private static volatile String commandName = "airlock";
  private static volatile boolean json;
  private static final AtomicBoolean REPORTED = new AtomicBoolean();

  private Signals() {}

  /** Takes over SIGINT and SIGTERM for the command running on {@code thread}. */
  public static void install(Thread thread, String name, boolean jsonOutput) {
    command = thread;
    commandName = name;
    json = jsonOutput;
    register();
    Cancellation.onNativeLoad(Signals::register);
  }

  /** (Re)takes both signals: also after a native library (Helm's Go runtime) took them. */
  static void register() {
    for (String sig : new String[] {"INT", "TERM"}) {
      try {
        Signal.handle(new Signal(sig), s -> onSignal(s.getName()));
      } catch (IllegalArgumentException unavailable) {
        // a platform without that signal
      }
    }
  }

  private static void onSignal(String name) {
    if (Cancellation.requested() != null) {
      halt();
      return;
    }
    Cancellation.request(name);
    Thread t = command;
    if (t != null) {
      t.interrupt();
    }
    Thread watchdog = new Thread(() -> {
      try {
        Thread.sleep(GRACE_MILLIS);
      } catch (InterruptedException ignored) {
        // halt now
      }
      halt();
    }, "airlock-stop");
    watchdog.setDaemon(true);
    watchdog.start();
  }

  private static void halt() {
    report(System.out, System.err);
    Runtime.getRuntime().halt(exitCode());
  }

  /** Whether a stop was asked for: the command's failure is then reported as the stop. */
  public static boolean stopped() {
    return Cancellation.requested() != null;
  }

  public static int exitCode() {
    return "TERM".equals(Cancellation.requested()) ? ExitCodes.TERMINATED : ExitCodes.INTERRUPTED;
  }

  /** Prints, once, that the command stopped and how to resume (text on stderr; a JSON error event too). */
  static void report(PrintStream out, PrintStream err) {
    if (!REPORTED.compareAndSet(false, true)) {
      return;
    }
    String sig = Cancellation.requested();
    String message = commandName + " stopped by SIG" + sig;
    String fix = RESUME.getOrDefault(commandName, "run the same command again");
    if (json) {
      var n = Console.JSON.createObjectNode().put("type", "error").put("message", message).put("exitCode",
          exitCode()).put("fix", fix);
      n.putObject("data").put("signal", sig);
      out.println(n);
      out.flush();
    }
    err.println();
    err.println("error: " + message);
    err.println("  fix: " + fix);
    err.flush();
  }
}
