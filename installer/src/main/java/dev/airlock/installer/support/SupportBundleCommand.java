package dev.airlock.installer.support;

import com.fasterxml.jackson.databind.JsonNode;
import dev.airlock.deploy.State;
import dev.airlock.deploy.StateStore;
import dev.airlock.deploy.support.Redactor;
import dev.airlock.deploy.support.SupportBundle;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.installer.BuildInfo;
import dev.airlock.installer.cli.Console;
import dev.airlock.installer.cli.OutputOptions;
import dev.airlock.installer.cluster.ClusterOptions;
import dev.airlock.installer.server.UsageReports;
import dev.airlock.kube.AuditLog;
import dev.airlock.kube.KubeTarget;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code airlock support-bundle}: what the vendor needs to see, secrets taken out (docs/support.md). */
@Command(name = "support-bundle", mixinStandardHelpOptions = true, description = {"Collect a support bundle for the "
    + "vendor: the installation record and history, the Helm releases' metadata and rendered manifests, every "
    + "platform namespace's workloads, pods, events and container logs (the newest --log-cap of each), nodes, "
    + "the installation's health, the server's configuration, roles, the license's terms, the audit chain's head "
    + "and check, and a signed usage report.", "Secrets are never collected; everything passes redactors (and your "
    + "--redact patterns), and redaction-report.json says what was replaced where. A collector that fails is "
    + "recorded in errors.json; the rest is kept."}, subcommands = SupportBundleCommand.Inspect.class)
public class SupportBundleCommand implements Callable<Integer> {

  // Not required to picocli: it checks a parent's required options for its subcommands too (inspect needs none).
  @Option(names = {"-o", "--out"}, paramLabel = "FILE", description = "the .tar.gz to write (needed)")
  Path out;

  @Option(names = "--since", paramLabel = "DURATION", defaultValue = "24h",
      converter = dev.airlock.installer.cli.DurationConverter.class,
      description = "events and logs from this long ago on (default: ${DEFAULT-VALUE})")
  Duration since;

  @Option(names = "--log-cap", paramLabel = "BYTES", defaultValue = "5242880",
      description = "bytes of log kept per container, the newest (default: ${DEFAULT-VALUE}, 5 MiB)")
  long logCap;

  @Option(names = "--redact", paramLabel = "FILE", description = "more redaction patterns: one Java regular "
      + "expression per line (a group: only it is replaced)")
  Path redact;

  @Mixin ClusterOptions cluster;
  @Mixin OutputOptions output;

  record Written(String file, int files, long bytes, List<String> errors, int redactions) {}

  @Override
  public Integer call() {
    if (out == null) {
      throw new AirlockException(Kind.BAD_INPUT, "support-bundle needs -o FILE: where to write the .tar.gz", "e.g. "
          + "airlock support-bundle -n platform -o support.tar.gz");
    }
    Console console = new Console(output);
    Redactor redactor = redact == null ? Redactor.builtIn() : Redactor.withPatterns(redact);
    Clock clock = Clock.systemUTC();
    try (KubeTarget kube = cluster.connect()) {
      SupportBundle.Result r = SupportBundle.collect(kube, new SupportBundle.Options(cluster.namespace,
          clock.instant().minus(since), logCap, redactor, BuildInfo.version()), () -> UsageReports.forSupportBundle(kube, cluster.namespace, clock), out,
          console, clock);
      int replaced = r.redactions().stream().mapToInt(Redactor.Replacement::count).sum();
      console.result("support bundle " + r.file() + ": " + r.files() + " files, " + r.bytes() + " bytes; "
          + replaced + " secrets redacted (redaction-report.json)" + (r.errors().isEmpty() ? ""
          : "; not collected: " + String.join("; ", r.errors())), new Written(r.file().toString(), r.files(),
          r.bytes(), r.errors(), replaced));
      return 0;
    }
  }

  /** {@code airlock support-bundle inspect FILE}. */
  @Command(name = "inspect", mixinStandardHelpOptions = true, description = "List what a support bundle holds: "
      + "each file and its size, what was not collected and why, and the redaction report.")
  public static class Inspect implements Callable<Integer> {
    @Parameters(paramLabel = "FILE", description = "the support bundle (.tar.gz)")
    Path file;

    @Mixin OutputOptions output;

    record Listing(List<Map<String, Object>> files, JsonNode errors, JsonNode redactions) {}

    @Override
    public Integer call() {
      exists(file);
      List<Map<String, Object>> files = new ArrayList<>();
      JsonNode errors = null;
      JsonNode redactions = null;
      try (InputStream in = new GZIPInputStream(Files.newInputStream(file));
          TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
        for (TarArchiveEntry e = tar.getNextEntry(); e != null; e = tar.getNextEntry()) {
          Map<String, Object> f = new LinkedHashMap<>();
          f.put("name", e.getName());
          f.put("bytes", e.getSize());
          files.add(f);
          if (e.getName().equals("errors.json")) {
            errors = Console.JSON.readTree(tar.readAllBytes());
          } else if (e.getName().equals("redaction-report.json")) {
            redactions = Console.JSON.readTree(tar.readAllBytes()).path("replacements");
          }
        }
      } catch (IOException e) {
        throw new AirlockException(Kind.BAD_INPUT, file + " is not a support bundle (" + e.getMessage() + ")",
            "pass the .tar.gz 'airlock support-bundle' wrote");
      }
      StringBuilder text = new StringBuilder();
      files.forEach(f -> text.append(String.format("%10d  %s%n", (Long) f.get("bytes"), f.get("name"))));
      if (errors != null && errors.size() > 0) {
        text.append("not collected:\n");
        errors.forEach(e -> text.append("  ").append(e.asText()).append('\n'));
      }
      if (redactions != null) {
        text.append("redacted:\n");
        redactions.forEach(r -> text.append(String.format("  %4d  %-22s %s%n", r.path("count").asInt(),
            r.path("redactor").asText(), r.path("file").asText())));
      }
      new Console(output).result(text.toString().stripTrailing(), new Listing(files, errors, redactions));
      return 0;
    }
  }

  private static void exists(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new AirlockException(Kind.BAD_INPUT, file + " does not exist", "pass the .tar.gz 'airlock "
          + "support-bundle' wrote");
    }
  }

  /** The text of one file in a support bundle, or null. */
  public static String read(Path bundle, String name) {
    exists(bundle);
    try (InputStream in = new GZIPInputStream(Files.newInputStream(bundle));
        TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
      for (TarArchiveEntry e = tar.getNextEntry(); e != null; e = tar.getNextEntry()) {
        if (e.getName().equals(name)) {
          return new String(tar.readAllBytes(), StandardCharsets.UTF_8);
        }
      }
      return null;
    } catch (IOException e) {
      throw new AirlockException(Kind.BAD_INPUT, bundle + " is not a support bundle (" + e.getMessage() + ")",
          "pass the .tar.gz 'airlock support-bundle' wrote");
    }
  }
}
