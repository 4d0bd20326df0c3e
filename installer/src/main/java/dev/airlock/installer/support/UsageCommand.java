package dev.airlock.installer.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.installer.cli.Console;
import dev.airlock.installer.cli.OutputOptions;
import dev.airlock.installer.cluster.ClusterOptions;
import dev.airlock.installer.server.UsageReports;
import dev.airlock.io.AtomicFiles;
import dev.airlock.kube.AuditLog;
import dev.airlock.kube.KubeTarget;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code airlock usage report | verify}: seat usage for the vendor, from the audit chain, signed. */
@Command(name = "usage", mixinStandardHelpOptions = true, description = "Usage reports for the vendor: seats per "
    + "day, users, logins, operations, computed from the audit chain and signed by the installation's server key.",
    subcommands = {UsageCommand.Report.class, UsageCommand.Verify.class})
public class UsageCommand {

  @Command(name = "report", mixinStandardHelpOptions = true, description = {"Compute and sign a usage report from "
      + "the audit chain: seats used per day (distinct users who logged in or got a token), distinct users, logins "
      + "by connector, operations, and the chain's head hash and event count it covers.", "JSON is signed (send it "
      + "to the vendor, with 'airlock audit export --output json' or a support bundle for them to check it); CSV is "
      + "the seats per day, for people."})
  public static class Report implements Callable<Integer> {
    @Option(names = "--from", paramLabel = "DATE", description = "first day, UTC (default: 29 days before --to)")
    String from;

    @Option(names = "--to", paramLabel = "DATE", description = "last day, UTC (default: today)")
    String to;

    @Option(names = "--output", paramLabel = "FORMAT", defaultValue = "json",
        description = "json (signed) or csv (default: ${DEFAULT-VALUE})")
    String format;

    @Option(names = {"-o", "--out"}, paramLabel = "FILE", description = "write it to FILE (default: stdout)")
    Path out;

    @Mixin ClusterOptions cluster;

    @Override
    public Integer call() throws IOException {
      if (!format.equals("json") && !format.equals("csv")) {
        throw new AirlockException(Kind.BAD_INPUT, "--output " + format + ": the formats are json and csv",
            "--output json (signed) or --output csv");
      }
      Clock clock = Clock.systemUTC();
      LocalDate last = to == null ? clock.instant().atZone(ZoneOffset.UTC).toLocalDate() : date("--to", to);
      LocalDate first = from == null ? last.minusDays(29) : date("--from", from);
      if (first.isAfter(last)) {
        throw new AirlockException(Kind.BAD_INPUT, "--from " + first + " is after --to " + last,
            "give --from before --to");
      }
      String text;
      try (KubeTarget kube = cluster.connect()) {
        String ns = UsageReports.serverNamespace(kube, cluster.namespace);
        List<Map<String, Object>> events = new AuditLog(kube.client(), ns, clock, null).export(null);
        Map<String, Object> report = UsageReports.compute(events, first, last, cluster.namespace);
        if (format.equals("json")) {
          ObjectNode signed = UsageReports.sign(kube.client(), ns, report);
          text = Console.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(signed) + "\n";
        } else {
          StringBuilder csv = new StringBuilder("day,seats\n");
          @SuppressWarnings("unchecked")
          Map<String, Integer> perDay = (Map<String, Integer>) report.get("seatsPerDay");
          perDay.forEach((d, n) -> csv.append(d).append(',').append(n).append('\n'));
          text = csv.toString();
        }
      }
      if (out == null) {
        System.out.print(text);
      } else {
        AtomicFiles.write(out, text, false, false);
        System.err.println("usage report " + first + " to " + last + " written to " + out);
      }
      return 0;
    }

    private static LocalDate date(String flag, String v) {
      try {
        return LocalDate.parse(v);
      } catch (DateTimeParseException e) {
        throw new AirlockException(Kind.BAD_INPUT, flag + " '" + v + "' is not a date", "e.g. " + flag
            + " 2026-12-01");
      }
    }
  }

  @Command(name = "verify", mixinStandardHelpOptions = true, description = {"Check a usage report: its signature, "
      + "and with --audit-export or --support-bundle that the audit events chain up to the head it names and that "
      + "every figure follows from them. Exit 10 naming what differs.", "Note the key's fingerprint: later reports "
      + "of the same installation are signed by the same key."})
  public static class Verify implements Callable<Integer> {
    @Parameters(paramLabel = "REPORT", description = "the usage report (JSON), or a support bundle holding one")
    Path report;

    @Option(names = "--audit-export", paramLabel = "FILE", description = "the audit events: the output of "
        + "'airlock audit export --output json'")
    Path export;

    @Option(names = "--support-bundle", paramLabel = "FILE", description = "a support bundle: its audit events "
        + "(and its usage report, when REPORT is the bundle itself)")
    Path supportBundle;

    @Mixin OutputOptions output;

    record Verified(String keyFingerprint, boolean checkedAgainstEvents) {}

    @Override
    public Integer call() throws IOException {
      JsonNode signed;
      boolean reportIsBundle = report.toString().endsWith(".tar.gz") || report.toString().endsWith(".tgz");
      String reportText = reportIsBundle ? SupportBundleCommand.read(report, "airlock/usage-report.json")
          : Files.readString(report);
      if (reportText == null) {
        throw new AirlockException(Kind.BAD_INPUT, report + " holds no usage report", "pass the report, or a "
            + "support bundle made by an airlock that adds one");
      }
      signed = Console.JSON.readTree(reportText);
      Path eventsFrom = supportBundle != null ? supportBundle : reportIsBundle ? report : null;
      List<Map<String, Object>> events = null;
      if (export != null) {
        events = lines(Files.readString(export), export.toString());
      } else if (eventsFrom != null) {
        String text = SupportBundleCommand.read(eventsFrom, "airlock/audit-events.jsonl");
        if (text == null) {
          throw new AirlockException(Kind.BAD_INPUT, eventsFrom + " holds no audit events", "pass "
              + "--audit-export with 'airlock audit export --output json'");
        }
        events = lines(text, eventsFrom + ":airlock/audit-events.jsonl");
      }
      UsageReports.Verified v = UsageReports.verify(signed, events);
      JsonNode r = signed.path("report");
      new Console(output).result("usage report " + r.path("from").asText() + " to " + r.path("to").asText()
          + " of " + r.path("installation").asText() + ": signature valid (key " + v.keyFingerprint() + ")"
          + (v.checkedAgainstEvents() ? "; every figure follows from " + r.path("chain").path("events").asInt()
          + " audit events chained to head " + r.path("chain").path("head").asText() : "; not checked against "
          + "audit events (pass --audit-export or --support-bundle)") + "; peak seats " + r.path("peakSeats")
          .asInt() + ", distinct users " + r.path("distinctUsers").asInt(), new Verified(v.keyFingerprint(),
          v.checkedAgainstEvents()));
      return 0;
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> lines(String text, String source) {
      List<Map<String, Object>> out = new ArrayList<>();
      for (String line : text.split("\n")) {
        if (line.isBlank()) {
          continue;
        }
        try {
          out.add(Console.JSON.readValue(line, Map.class));
        } catch (IOException e) {
          throw new AirlockException(Kind.VERIFICATION, source + " holds a line that is not an audit event",
              "pass the output of 'airlock audit export --output json' unchanged");
        }
      }
      return out;
    }
  }
}
