package dev.airlock.installer.cli;

import dev.airlock.error.AirlockException;
import io.quarkus.runtime.annotations.CommandLineArguments;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import java.io.PrintWriter;
import java.util.Arrays;
import java.util.List;
import picocli.CommandLine;

/**
 * One error path for every command: an {@link AirlockException} prints its message and fix and exits with its code;
 * a failed Kubernetes API request is a remote failure (exit 11); a bad flag or an unknown command prints what is
 * wrong and exits 2; a stop by SIGINT/SIGTERM exits 130/143 saying how to resume; anything else is a bug and says
 * so. With {@code --output json}, every failure is also one {@code error} event on stdout.
 */
@ApplicationScoped
public class CommandLineSetup {

  @Produces
  CommandLine commandLine(CommandLine.IFactory factory, @CommandLineArguments String[] args) {
    CommandLine cl = dev.airlock.installer.AirlockCommand.commandLine(factory, args);
    cl.setExecutionExceptionHandler(CommandLineSetup::handle);
    cl.setParameterExceptionHandler(CommandLineSetup::badArguments);
    cl.setExecutionStrategy(parsed -> {
      CommandLine.ParseResult leaf = leaf(parsed);
      if (!leaf.unmatched().isEmpty()) {
        // picocli lets --help win over an unknown command; a script must be able to tell them apart.
        throw new CommandLine.UnmatchedArgumentException(leaf.commandSpec().commandLine(), leaf.unmatched());
      }
      Signals.install(Thread.currentThread(), leaf.commandSpec().qualifiedName(), wantsJson(parsed));
      return new CommandLine.RunLast().execute(parsed);
    });
    return cl;
  }

  private static CommandLine.ParseResult leaf(CommandLine.ParseResult parsed) {
    CommandLine.ParseResult p = parsed;
    while (p.hasSubcommand()) {
      p = p.subcommand();
    }
    return p;
  }

  /** Whether the command that ran (the innermost subcommand, where --output lives) asked for JSON. */
  static boolean wantsJson(CommandLine.ParseResult parsed) {
    for (CommandLine.ParseResult p = parsed; p != null; p = p.hasSubcommand() ? p.subcommand() : null) {
      // Any --output whose value is json (OutputOptions' format, or a command's own, such as usage report's).
      Object format = p.matchedOptionValue("--output", null);
      if (format != null && "json".equals(String.valueOf(format))) {
        return true;
      }
    }
    return false;
  }

  /** For failures before parsing completed: whether the raw arguments ask for JSON. */
  static boolean wantsJson(String[] args) {
    List<String> a = Arrays.asList(args);
    int i = a.indexOf("--output");
    return i >= 0 && i + 1 < a.size() && a.get(i + 1).equals("json") || a.contains("--output=json");
  }

  static int badArguments(CommandLine.ParameterException ex, String[] args) {
    CommandLine cmd = ex.getCommandLine();
    String name = cmd.getCommandSpec().qualifiedName();
    String message = ex.getMessage();
    String fix = "see '" + name + " --help'";
    if (ex instanceof CommandLine.UnmatchedArgumentException u && !u.getUnmatched().isEmpty()) {
      String first = u.getUnmatched().get(0);
      List<String> suggestions = u.getSuggestions();
      boolean command = !cmd.getSubcommands().isEmpty() && !first.startsWith("-");
      message = (command ? "unknown command '" : first.startsWith("-") ? "unknown option '" : "unexpected argument '")
          + first + "' for '" + name + "'";
      fix = suggestions.isEmpty() ? (command ? "'" + name + " --help' lists the commands" : fix)
          : "did you mean: " + String.join(", ", suggestions.stream().map(s -> name + " " + s).toList()) + "?";
    }
    return report(new AirlockException(AirlockException.Kind.BAD_INPUT, message, fix), cmd, wantsJson(args));
  }

  static int handle(Exception original, CommandLine cmd, CommandLine.ParseResult parsed) {
    if (Signals.stopped()) {
      // The interrupt that stopped the command must not make Quarkus's own shutdown fail.
      Thread.interrupted();
      Signals.report(System.out, System.err);
      return Signals.exitCode();
    }
    Exception ex = original;
    if (ex instanceof io.fabric8.kubernetes.client.KubernetesClientException k) {
      // Calls that do not say what they were doing still get an answer the user can act on.
      ex = new AirlockException(AirlockException.Kind.REMOTE, "a Kubernetes API request failed: "
          + (k.getCode() == 0 ? "" : "HTTP " + k.getCode() + " ") + (k.getStatus() != null
          && k.getStatus().getMessage() != null ? k.getStatus().getMessage() : k.getMessage()),
          k.getCode() == 401 || k.getCode() == 403 ? "check the kubeconfig user's credentials and permissions "
          + "('airlock preflight' lists what is needed)" : "check --kubeconfig/--context and that the API server is "
          + "reachable; then run the command again", k).with(AirlockException.STATUS, k.getCode() == 0 ? null
          : k.getCode());
    }
    if (ex instanceof AirlockException a) {
      return report(a, cmd, wantsJson(parsed));
    }
    PrintWriter err = cmd.getErr();
    if (wantsJson(parsed)) {
      emit(new AirlockException(AirlockException.Kind.BAD_INPUT, "internal error in airlock: " + ex,
          "this is a bug; please report it with the output on stderr"), ExitCodes.INTERNAL);
    }
    err.println("error: internal error in airlock: " + ex);
    ex.printStackTrace(err);
    err.println("  this is a bug; please report it with the output above");
    err.flush();
    return ExitCodes.INTERNAL;
  }

  private static int report(AirlockException a, CommandLine cmd, boolean json) {
    int code = ExitCodes.of(a);
    if (json) {
      emit(a, code);
    }
    PrintWriter err = cmd.getErr();
    err.println("error: " + a.getMessage());
    a.fix().ifPresent(f -> err.println("  fix: " + f));
    err.flush();
    return code;
  }

  private static void emit(AirlockException a, int code) {
    var n = Console.JSON.createObjectNode().put("type", "error").put("message", a.getMessage()).put("exitCode", code);
    a.fix().ifPresent(f -> n.put("fix", f));
    if (!a.data().isEmpty()) {
      n.set("data", Console.JSON.valueToTree(a.data()));
    }
    System.out.println(n);
    System.out.flush();
  }
}
