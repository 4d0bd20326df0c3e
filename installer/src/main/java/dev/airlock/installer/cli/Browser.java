package dev.airlock.installer.cli;

import java.io.IOException;
import java.net.URI;
import java.util.List;

/** Opens a URL in the user's browser when there is a desktop; never fails the command. */
public final class Browser {

  private Browser() {}

  public static void open(URI url) {
    boolean desktop = System.getenv("DISPLAY") != null || System.getenv("WAYLAND_DISPLAY") != null
        || System.getProperty("os.name", "").startsWith("Mac");
    if (!desktop) {
      return;
    }
    for (String opener : List.of("xdg-open", "open")) {
      try {
        new ProcessBuilder(opener, url.toString()).redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        return;
      } catch (IOException e) {
        // try the next one
      }
    }
  }
}
