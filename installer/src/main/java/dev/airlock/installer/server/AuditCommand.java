package dev.airlock.installer.server;

import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.installer.cli.Console;
import dev.airlock.installer.cli.OutputOptions;
import dev.airlock.installer.cluster.ClusterOptions;
import dev.airlock.kube.AuditLog;
import dev.airlock.kube.KubeTarget;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code airlock audit export | verify}: the audit trail kept in the cluster. */
@Command(name = "audit", mixinStandardHelpOptions = true, description = "Read and check the audit trail kept in the "
    + "cluster (hash-chained events in airlock's namespace).", subcommands = {AuditCommand.Export.class,
        AuditCommand.Verify.class})
public class AuditCommand {

  @Command(name = "export", mixinStandardHelpOptions = true, description = "Print the audit events, oldest first: "
      + "one line each, or one JSON object per line with --output json.")
  public static class Export implements Callable<Integer> {
    @Option(names = "--since", paramLabel = "WHEN", description = "only events from then on: an instant "
        + "(2026-12-01T00:00:00Z) or an age (30m, 24h, 7d)")
    String since;

    @Mixin ClusterOptions cluster;
    @Mixin OutputOptions output;

    @Override
    public Integer call() {
      Instant from = since == null ? null : parseSince(since);
      try (KubeTarget target = cluster.connect()) {
        List<Map<String, Object>> events = new AuditLog(target.client(), cluster.namespace, Clock.systemUTC(), null)
            .export(from);
        Console console = new Console(output);
        for (Map<String, Object> e : events) {
          if (console.json()) {
            console.emit(Console.JSON.valueToTree(e));
          } else {
            System.out.println(e.get("time") + "  " + e.get("actor") + "  " + e.get("action") + "  " + e.get("target")
                + "  " + e.get("result") + (e.get("source") == null ? "" : "  from " + e.get("source")));
          }
        }
      }
      return 0;
    }
  }

  @Command(name = "verify", mixinStandardHelpOptions = true, description = "Check the audit trail's hash chain: "
      + "every event's hash and its link to the one before. Exit 10 naming the first broken link.")
  public static class Verify implements Callable<Integer> {
    @Mixin ClusterOptions cluster;
    @Mixin OutputOptions output;

    record Verified(int events, int segments, boolean intact) {}

    @Override
    public Integer call() {
      try (KubeTarget target = cluster.connect()) {
        AuditLog.Verification v = new AuditLog(target.client(), cluster.namespace, Clock.systemUTC(), null).verify();
        if (!v.intact()) {
          throw new AirlockException(Kind.VERIFICATION, "the audit trail is broken at " + v.broken() + " (" + v.events()
              + " events before it verify)", "the log was changed in the cluster: compare with the copy the "
              + "server printed to its log, and find who had write access to ConfigMaps in " + cluster.namespace);
        }
        new Console(output).result("audit trail intact: " + v.events() + " events in " + v.segments() + " segments",
            new Verified(v.events(), v.segments(), true));
      }
      return 0;
    }
  }

  static Instant parseSince(String s) {
    java.util.Optional<Duration> age = dev.airlock.text.Durations.parse(s);
    if (age.isPresent()) {
      return Instant.now().minus(age.get());
    }
    try {
      return Instant.parse(s);
    } catch (DateTimeParseException e) {
      throw new AirlockException(Kind.BAD_INPUT, "--since '" + s + "' is neither an instant nor an age",
          "e.g. --since 24h or --since 2026-12-01T00:00:00Z");
    }
  }
}
