package dev.airlock.deploy.plan;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * An operation as a value: an ordered list of named {@link Step}s and what happens when one fails. Install, upgrade,
 * rollback and uninstall are plans; {@code --dry-run}, {@code plan show} and the confirmation prompt print the
 * same {@link #view()}.
 *
 * @param kind {@code install}, {@code upgrade}, {@code rollback} or {@code uninstall}
 * @param title one line: what the plan does as a whole
 */
public record Plan(String kind, String title, OnFailure onFailure, List<Step> steps) {

  /** What the runner does when a step fails. */
  public enum OnFailure {
    /** Keep what is done; running the same operation again resumes at the failed step. */
    RESUME,
    /** Undo the failed step and every completed step, newest first. */
    ROLL_BACK
  }

  public Plan {
    steps = List.copyOf(steps);
    Set<String> names = new HashSet<>();
    for (Step s : steps) {
      if (!names.add(s.name())) {
        throw new IllegalArgumentException("two steps named " + s.name());
      }
    }
  }

  /** The plan as data, for printing and JSON. */
  public View view() {
    List<StepView> out = new ArrayList<>();
    for (Step s : steps) {
      out.add(new StepView(s.name(), s.does(), s.undoes()));
    }
    return new View(kind, title, onFailure == OnFailure.ROLL_BACK ? "roll back" : "resume", out);
  }

  /** What a plan shows. */
  public record View(String kind, String title, String onFailure, List<StepView> steps) {
    public View {
      steps = List.copyOf(steps);
    }

    /** The plan for people: a title and one line per step. */
    public String text() {
      StringBuilder sb = new StringBuilder(title).append('\n');
      int width = steps.stream().mapToInt(s -> s.name().length()).max().orElse(0);
      for (StepView s : steps) {
        sb.append(String.format("  %-" + width + "s  %s%n", s.name(), s.does()));
        if (s.undoes() != null) {
          sb.append(String.format("  %-" + width + "s    undo: %s%n", "", s.undoes()));
        }
      }
      sb.append("  if a step fails: ").append(onFailure.equals("roll back") ? "every step done is undone, newest "
          + "first" : "what is done stays; run the same command again to resume at that step");
      return sb.toString();
    }
  }

  /** One step as shown. */
  public record StepView(String name, String does, String undoes) {}
}
