package dev.airlock.installer.cluster;

import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import java.io.BufferedReader;
import java.io.Console;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

/**
 * Asks before a command changes a cluster. {@code --yes} answers for the user; with no terminal (scripts, CI)
 * nothing is asked and the command fails instead of waiting for an answer that cannot come.
 */
public final class Confirm {

  private Confirm() {}

  public static boolean ask(boolean yes, String what) {
    if (yes) {
      return true;
    }
    Console console = System.console();
    if (console == null) {
      throw new AirlockException(Kind.BAD_INPUT, "about to " + what + ", and there is no terminal to confirm it",
          "pass --yes to proceed without asking (scripts and CI)");
    }
    System.err.print("About to " + what + ".\nProceed? [y/N] ");
    System.err.flush();
    try {
      String answer = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
      return answer != null && (answer.strip().equalsIgnoreCase("y") || answer.strip().equalsIgnoreCase("yes"));
    } catch (IOException e) {
      return false;
    }
  }
}
