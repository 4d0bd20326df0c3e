package dev.airlock.installer.server;

import dev.airlock.deploy.State;
import dev.airlock.deploy.plan.Plan;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import io.quarkus.qute.RawString;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The console's upgrade pages: a bundle uploaded in resumable chunks, verified and checked (the preflight results and
 * the plan shown), confirmed, then followed live (server-sent events) to its end, an automatic rollback included; and
 * a rollback by hand to an earlier version.
 */
final class ConsoleUpgrades {

  /** How often the live page is brought up to date, and the longest it stays open. */
  private static final Duration TICK = Duration.ofMillis(700);
  private static final Duration LONGEST = Duration.ofHours(3);

  private final AirlockServer server;
  private final ConsolePages pages;
  private final ConsoleOperations ops;

  ConsoleUpgrades(AirlockServer server, ConsolePages pages) {
    this.server = server;
    this.pages = pages;
    this.ops = server.operations();
  }

  void routes(Web web) {
    web.on("GET", "/console/upgrade", r -> pages.page(r, "view", this::upgradePage));
    web.on("POST", "/console/upgrade/uploads", r -> pages.page(r, "upgrade", (v, p) -> beginUpload(v, p)));
    web.on("PUT", "/console/upgrade/uploads/([0-9a-f]{24})", r -> pages.page(r, "upgrade", (v, p) -> chunk(r, v)));
    web.on("GET", "/console/upgrade/review/([0-9a-f]{24})", r -> pages.page(r, "upgrade", (v, p) -> review(r, v)));
    web.on("POST", "/console/upgrade/review/([0-9a-f]{24})", r -> pages.page(r, "upgrade",
        (v, p) -> startUpgrade(r, v, p)));
    web.on("GET", "/console/rollback", r -> pages.page(r, "rollback", this::rollbackPage));
    web.on("POST", "/console/rollback", r -> pages.page(r, "rollback", (v, p) -> startRollback(r, v, p)));
    web.on("GET", "/console/operations/([0-9a-f]{18})", r -> pages.page(r, "view", (v, p) -> operation(r, v)));
    web.on("GET", "/console/operations/([0-9a-f]{18})/events", r -> pages.page(r, "view", (v, p) -> events(r)));
  }

  private Web.Response upgradePage(ConsolePages.Viewer v, Map<String, String> params) {
    Map<String, Object> data = pages.base(v, "upgrade");
    data.put("available", ops.available());
    data.put("installed", installed());
    data.put("running", ops.running().get("run"));
    data.put("targets", v.mayRollback() && ops.available() ? ops.rollbackTargets() : List.of());
    return pages.html(200, "upgrade", data);
  }

  private State.Installation installed() {
    var status = pages.status();
    return status == null ? null : status.installation();
  }

  private Web.Response beginUpload(ConsolePages.Viewer v, Map<String, String> p) {
    long size;
    try {
      size = Long.parseLong(p.getOrDefault("size", ""));
    } catch (NumberFormatException e) {
      throw new AirlockException(Kind.BAD_INPUT, "the upload's size is not a number", "choose the file again");
    }
    Uploads.Upload u = ops.uploads().begin(ConsolePages.actor(v), p.get("name"), size, p.getOrDefault("modified",
        ""));
    return Web.Response.json(uploadJson(u));
  }

  private static Map<String, Object> uploadJson(Uploads.Upload u) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("id", u.id());
    out.put("offset", u.received());
    out.put("size", u.size());
    out.put("complete", u.complete());
    out.put("review", "/console/upgrade/review/" + u.id());
    return out;
  }

  private Web.Response chunk(Web.Request r, ConsolePages.Viewer v) throws IOException {
    long offset;
    try {
      offset = Long.parseLong(r.query.getOrDefault("offset", ""));
    } catch (NumberFormatException e) {
      throw new AirlockException(Kind.BAD_INPUT, "a chunk needs ?offset=N", "upload from the console's page");
    }
    // Not closed here: a chunk refused before its body is read (a wrong offset) must leave the body for Web.send to
    // read, or the JDK server drops the connection (and the client's answer) over the unread rest.
    var in = r.exchange.getRequestBody();
    return Web.Response.json(uploadJson(ops.uploads().append(r.param(0), ConsolePages.actor(v), offset, in)));
  }

  private Web.Response review(Web.Request r, ConsolePages.Viewer v) {
    Uploads.Upload u = ops.uploads().require(r.param(0), ConsolePages.actor(v));
    Map<String, Object> data = pages.base(v, "upgrade");
    data.put("review", ops.review(u, ConsolePages.actor(v)));
    data.put("installed", installed());
    return pages.html(200, "review", data);
  }

  private Web.Response startUpgrade(Web.Request r, ConsolePages.Viewer v, Map<String, String> p) {
    Uploads.Upload u = ops.uploads().require(r.param(0), ConsolePages.actor(v));
    ConsoleOperations.Review review = ops.review(u, ConsolePages.actor(v));
    if (!review.ok()) {
      throw new AirlockException(Kind.BAD_INPUT, "this bundle did not pass its checks: " + review.error(),
          review.fix() == null ? "upload a bundle that passes them" : review.fix());
    }
    ConsoleOperations.Run run = ops.upgrade(u, ConsolePages.actor(v), r.remote(), timeout(p));
    return Web.Response.redirect("/console/operations/" + run.id());
  }

  private static int timeout(Map<String, String> p) {
    long t = dev.airlock.text.Durations.parseFlag(p.getOrDefault("timeout", "5m")).map(java.time.Duration::toSeconds)
        .orElse(-1L);
    if (t < 10 || t > 3600) {
      throw new AirlockException(Kind.BAD_INPUT, "the time allowed per release must be from 10s to 1h (e.g. 300, "
          + "90s, 5m)", "e.g. 5m");
    }
    return (int) t;
  }

  private Web.Response rollbackPage(ConsolePages.Viewer v, Map<String, String> p) {
    Map<String, Object> data = pages.base(v, "upgrade");
    String to = p.getOrDefault("to", "").strip();
    data.put("to", to);
    data.put("installed", installed());
    Plan.View plan = null;
    String error = null;
    try {
      plan = ops.rollbackPlan(to.isEmpty() ? null : to, ConsolePages.actor(v));
    } catch (AirlockException e) {
      error = e.getMessage() + e.fix().map(f -> " — " + f).orElse("");
    }
    data.put("plan", plan);
    data.put("error", error);
    return pages.html(error == null ? 200 : 422, "rollback", data);
  }

  private Web.Response startRollback(Web.Request r, ConsolePages.Viewer v, Map<String, String> p) {
    String to = p.getOrDefault("to", "").strip();
    ConsoleOperations.Run run = ops.rollback(to.isEmpty() ? null : to, ConsolePages.actor(v), r.remote(),
        timeout(p));
    return Web.Response.redirect("/console/operations/" + run.id());
  }

  private Web.Response operation(Web.Request r, ConsolePages.Viewer v) {
    ConsoleOperations.Run run = ops.run(r.param(0));
    Map<String, Object> data = pages.base(v, "upgrade");
    data.put("id", r.param(0));
    data.put("run", run);
    State.Operation op = ops.recorded(run);
    data.put("steps", new RawString(steps(op)));
    data.put("result", new RawString(run == null || !run.done() ? "" : result(run, op)));
    data.put("done", run == null ? op == null || !op.running() : run.done());
    // The log so far; the event stream sends only the lines after these.
    List<String> lines = run == null ? List.of() : run.lines();
    data.put("lines", lines);
    data.put("from", lines.size());
    return pages.html(200, "operation", data);
  }

  /** Server-sent events: the steps as the cluster records them, the run's log lines, and its end. */
  private Web.Response events(Web.Request r) {
    ConsoleOperations.Run run = ops.run(r.param(0));
    return Web.Response.stream("text/event-stream", out -> {
      Instant until = Instant.now().plus(LONGEST);
      String shown = null;
      int lines;
      try {
        lines = Math.max(0, Integer.parseInt(r.query.getOrDefault("from", "0")));
      } catch (NumberFormatException e) {
        lines = 0;
      }
      while (Instant.now().isBefore(until)) {
        boolean finished = run != null && run.done();
        State.Operation op = ops.recorded(run);
        String steps = steps(op);
        if (!steps.equals(shown)) {
          send(out, "steps", steps);
          shown = steps;
        }
        if (run != null) {
          List<String> log = run.lines();
          for (; lines < log.size(); lines++) {
            send(out, "log", Web.escape(log.get(lines)));
          }
        }
        if (finished || (run == null && (op == null || !op.running()))) {
          send(out, "done", run == null ? "" : result(run, op));
          return;
        }
        out.write(": tick\n\n".getBytes(StandardCharsets.UTF_8));
        out.flush();
        try {
          Thread.sleep(TICK.toMillis());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    });
  }

  private static void send(OutputStream out, String event, String html) throws IOException {
    StringBuilder b = new StringBuilder("event: ").append(event).append('\n');
    for (String line : html.split("\n", -1)) {
      b.append("data: ").append(line).append('\n');
    }
    out.write(b.append('\n').toString().getBytes(StandardCharsets.UTF_8));
    out.flush();
  }

  private String steps(State.Operation op) {
    return pages.steps(op);
  }

  private String result(ConsoleOperations.Run run, State.Operation op) {
    Map<String, Object> data = new LinkedHashMap<>();
    data.put("run", run);
    data.put("op", op);
    return pages.fragment("result", data);
  }
}
