package dev.airlock.io;

import dev.airlock.error.AirlockException;

/**
 * Whether the user asked the running operation to stop (SIGINT or SIGTERM, set by the CLI). Long loops — downloads,
 * uploads, plan steps — call {@link #check} between units of work, so an operation stops within a moment and keeps
 * what a re-run needs to resume (a partial file and its journal, a plan recorded in the cluster).
 */
public final class Cancellation {

  private static volatile String signal;
  private static volatile Runnable reclaimSignals = () -> { };

  private Cancellation() {}

  /** Records that {@code signalName} (e.g. {@code INT}) asked the process to stop. */
  public static void request(String signalName) {
    signal = signalName;
  }

  /** The signal that asked to stop, or null. */
  public static String requested() {
    return signal;
  }

  /** Throws {@link AirlockException.Kind#CANCELLED} if a stop was requested. */
  public static void check(String doing) {
    String s = signal;
    if (s != null) {
      throw cancelled(doing, s);
    }
  }

  /** The error for an operation stopped while {@code doing}. */
  public static AirlockException cancelled(String doing, String signalName) {
    return new AirlockException(AirlockException.Kind.CANCELLED, "stopped by SIG" + signalName + " while " + doing,
        "run the same command again to resume").with(AirlockException.SIGNAL, signalName);
  }

  /**
   * Sets how the process takes SIGINT and SIGTERM back after native code took them: Helm's Go runtime registers its
   * own handlers for both when its library loads, and would swallow Ctrl-C.
   */
  public static void onNativeLoad(Runnable reclaim) {
    reclaimSignals = reclaim;
  }

  /** Called by code that just loaded a native library which may have taken the process's signals. */
  public static void nativeLibraryLoaded() {
    reclaimSignals.run();
  }

  /** For tests that run several operations in one JVM. */
  public static void reset() {
    signal = null;
  }
}
