package dev.airlock.event;

/** Receives events; called from worker threads, so implementations must be thread-safe. */
@FunctionalInterface
public interface EventHandler {

  void on(Event event);

  static EventHandler none() {
    return e -> {};
  }

  default void info(String message) {
    on(new Event.Log(Event.Level.INFO, message));
  }

  default void warn(String message) {
    on(new Event.Log(Event.Level.WARN, message));
  }

  default void debug(String message) {
    on(new Event.Log(Event.Level.DEBUG, message));
  }
}
