package dev.airlock.deploy.plan;

/**
 * One named step of a {@link Plan}: what it does, and how it is undone. Steps are small and idempotent: run again
 * after an interruption, they finish the job instead of failing on what an earlier run already did.
 */
public interface Step {

  /** Stable name, recorded in the cluster: {@code push}, {@code release/controller}. */
  String name();

  /** What running it changes, for people (plan show, --dry-run, the confirmation prompt). */
  String does();

  /** How {@link #undo()} puts things back, for people; null when there is nothing to undo. */
  String undoes();

  /** Does the work; returns one line saying what it did. */
  String run();

  /** Puts back what {@link #run()} changed (also after a partial run); returns one line saying what it did. */
  default String undo() {
    return "nothing to undo";
  }

  /** A step from its parts. */
  static Step of(String name, String does, String undoes, java.util.function.Supplier<String> run,
      java.util.function.Supplier<String> undo) {
    return new Step() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public String does() {
        return does;
      }

      @Override
      public String undoes() {
        return undoes;
      }

      @Override
      public String run() {
        return run.get();
      }

      @Override
      public String undo() {
        return undo == null ? "nothing to undo" : undo.get();
      }
    };
  }
}
