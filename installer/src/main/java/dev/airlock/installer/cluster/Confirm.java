package dev.airlock.installer.cluster;

import dev.airlock.deploy.plan.Plan;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

/**
 * Shows the plan and asks before a command changes a cluster. {@code --yes} answers for the user; with no terminal
 * (scripts, CI) nothing is asked and the command fails instead of waiting for an answer that cannot come.
 */
public final class Confirm {

  private Confirm() {}

  public static boolean ask(boolean yes, Plan.View plan) {
    if (yes) {
      return true;
    }
    java.io.Console console = System.console();
    if (console == null) {
      throw new AirlockException(Kind.BAD_INPUT, "about to " + plan.title() + ", and there is no terminal to "
          + "confirm it", "pass --yes to proceed without asking (scripts and CI); --dry-run shows the plan");
    }
    System.err.println("Plan: " + plan.text());
    System.err.print("Proceed? [y/N] ");
    System.err.flush();
    try {
      String answer = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
      return answer != null && (answer.strip().equalsIgnoreCase("y") || answer.strip().equalsIgnoreCase("yes"));
    } catch (IOException e) {
      return false;
    }
  }
}
