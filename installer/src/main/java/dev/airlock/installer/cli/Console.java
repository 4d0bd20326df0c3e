package dev.airlock.installer.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.airlock.event.Event;
import dev.airlock.event.EventHandler;
import java.io.PrintStream;
import java.util.Locale;

/**
 * Renders library events: a progress bar on a terminal, plain lines when output is piped, and JSON lines with
 * {@code --output json}. Results go to stdout, progress and messages to stderr (text) or stdout (json).
 */
public final class Console implements EventHandler {

  public static final ObjectMapper JSON = new ObjectMapper().findAndRegisterModules()
      .configure(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS, false)
      .setSerializationInclusion(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL);

  private final OutputOptions options;
  private final PrintStream out;
  private final PrintStream err;
  private final boolean terminal;
  private String phase;
  private long total;
  private long done;
  private long phaseStart;
  private long lastDraw;
  private int lastDecile = -1;

  public Console(OutputOptions options) {
    this(options, System.out, System.err, System.console() != null);
  }

  Console(OutputOptions options, PrintStream out, PrintStream err, boolean terminal) {
    this.options = options;
    this.out = out;
    this.err = err;
    this.terminal = terminal;
  }

  public boolean json() {
    return options.json();
  }

  public PrintStream out() {
    return out;
  }

  @Override
  public synchronized void on(Event event) {
    if (options.json()) {
      if (event instanceof Event.Progress p) {
        done += p.delta();
        long now = System.nanoTime();
        if (now - lastDraw < 500_000_000L) {
          return;
        }
        lastDraw = now;
        ObjectNode n = JSON.createObjectNode().put("type", "progress").put("phase", p.phase()).put("done", done);
        if (total > 0) {
          n.put("total", total);
        }
        emit(n);
        return;
      }
      ObjectNode n = JSON.createObjectNode();
      if (event instanceof Event.PhaseStarted s) {
        phase = s.phase();
        total = s.totalBytes();
        done = 0;
        n.put("type", "phase-started").put("phase", s.phase()).put("description", s.description());
        if (s.totalBytes() >= 0) {
          n.put("totalBytes", s.totalBytes());
        }
      } else if (event instanceof Event.PhaseFinished f) {
        n.put("type", "phase-finished").put("phase", f.phase()).put("summary", f.summary());
      } else if (event instanceof Event.Checked c) {
        n.put("type", "check").put("id", c.id()).put("status", c.status()).put("message", c.message());
        if (c.fix() != null) {
          n.put("fix", c.fix());
        }
      } else if (event instanceof Event.Log l) {
        if (l.level() == Event.Level.DEBUG && !options.verbose) {
          return;
        }
        n.put("type", "log").put("level", l.level().name().toLowerCase(Locale.ROOT)).put("message", l.message());
      }
      emit(n);
      return;
    }
    if (event instanceof Event.PhaseStarted s) {
      phase = s.phase();
      total = s.totalBytes();
      done = 0;
      lastDecile = -1;
      phaseStart = System.nanoTime();
      err.println("==> " + s.description());
    } else if (event instanceof Event.Progress p) {
      done += p.delta();
      draw(false);
    } else if (event instanceof Event.PhaseFinished f) {
      if (total > 0) {
        draw(true);
      }
      if (terminal && total > 0) {
        err.println();
      }
      err.println("    " + f.summary());
      phase = null;
    } else if (event instanceof Event.Checked c) {
      err.println(String.format(Locale.ROOT, "    %-7s %-22s %s", "[" + c.status() + "]", c.id(), c.message()));
      if (c.fix() != null) {
        err.println(String.format(Locale.ROOT, "    %-7s %-22s fix: %s", "", "", c.fix()));
      }
    } else if (event instanceof Event.Log l) {
      if (l.level() == Event.Level.WARN) {
        clearLine();
        err.println("warning: " + l.message());
      } else if (l.level() == Event.Level.INFO && options.verbose || l.level() == Event.Level.DEBUG
          && options.verbose) {
        clearLine();
        err.println("    " + l.message());
      }
    }
  }

  private void draw(boolean force) {
    if (total <= 0) {
      return;
    }
    long now = System.nanoTime();
    double seconds = Math.max((now - phaseStart) / 1e9, 1e-3);
    double rate = done / seconds;
    int percent = (int) Math.min(100, done * 100 / total);
    if (terminal) {
      if (!force && now - lastDraw < 100_000_000L) {
        return;
      }
      lastDraw = now;
      int width = 30;
      int filled = percent * width / 100;
      long eta = rate > 0 ? (long) Math.ceil((total - done) / rate) : -1;
      err.print(String.format(Locale.ROOT, "\r    [%s%s] %3d%% %s/%s %s/s ETA %s ", "#".repeat(filled),
          ".".repeat(width - filled), percent, bytes(done), bytes(total), bytes((long) rate),
          eta < 0 ? "?" : eta + "s"));
      err.flush();
    } else {
      int decile = percent / 10;
      if (decile != lastDecile && (decile > 0 || force)) {
        lastDecile = decile;
        err.println(String.format(Locale.ROOT, "    %s: %d%% (%s of %s, %s/s)", phase, percent, bytes(done),
            bytes(total), bytes((long) rate)));
      }
    }
  }

  private void clearLine() {
    if (terminal && phase != null && total > 0) {
      err.print("\r\033[K");
    }
  }

  public synchronized void emit(ObjectNode node) {
    try {
      out.println(JSON.writeValueAsString(node));
      out.flush();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Prints a command's result: {@code text} for people, or with {@code --output json} the result record itself as
   * one JSON line with {@code "type":"result"} — one serializer for every command.
   */
  public void result(String text, Object record) {
    if (options.json()) {
      ObjectNode n = JSON.createObjectNode().put("type", "result");
      n.setAll((ObjectNode) JSON.valueToTree(record));
      emit(n);
    } else {
      out.println(text);
    }
  }

  public static String bytes(long b) {
    if (b < 1024) {
      return b + " B";
    }
    String[] units = {"KiB", "MiB", "GiB", "TiB"};
    double v = b;
    int u = -1;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
  }
}
