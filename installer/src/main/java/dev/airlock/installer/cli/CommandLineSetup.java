package dev.airlock.installer.cli;

import dev.airlock.error.AirlockException;
import io.quarkus.picocli.runtime.PicocliCommandLineFactory;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import java.io.PrintWriter;
import picocli.CommandLine;

/**
 * One error path for every command: an {@link AirlockException} prints its message and fix and exits with its code;
 * a failed Kubernetes API request is a remote failure (exit 11); a bad flag prints usage and exits 2; anything else
 * is a bug and says so.
 */
@ApplicationScoped
public class CommandLineSetup {

  @Produces
  CommandLine commandLine(PicocliCommandLineFactory factory) {
    CommandLine cl = factory.create();
    cl.setExecutionExceptionHandler(CommandLineSetup::handle);
    cl.setParameterExceptionHandler((ex, args) -> {
      PrintWriter err = ex.getCommandLine().getErr();
      err.println("error: " + ex.getMessage());
      err.println("  fix: see '" + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help'");
      return ExitCodes.BAD_INPUT;
    });
    return cl;
  }

  /** Whether the command that ran (the innermost subcommand, where --output lives) asked for JSON. */
  static boolean wantsJson(CommandLine.ParseResult parsed) {
    for (CommandLine.ParseResult p = parsed; p != null; p = p.hasSubcommand() ? p.subcommand() : null) {
      if (p.matchedOptionValue("--output", OutputOptions.Format.text) == OutputOptions.Format.json) {
        return true;
      }
    }
    return false;
  }

  static int handle(Exception original, CommandLine cmd, CommandLine.ParseResult parsed) {
    Exception ex = original;
    if (ex instanceof io.fabric8.kubernetes.client.KubernetesClientException k) {
      // Calls that do not say what they were doing still get an answer the user can act on.
      ex = new AirlockException(AirlockException.Kind.REMOTE, "a Kubernetes API request failed: "
          + (k.getCode() == 0 ? "" : "HTTP " + k.getCode() + " ") + (k.getStatus() != null
          && k.getStatus().getMessage() != null ? k.getStatus().getMessage() : k.getMessage()),
          k.getCode() == 401 || k.getCode() == 403 ? "check the kubeconfig user's credentials and permissions "
          + "('airlock preflight' lists what is needed)" : "check --kubeconfig/--context and that the API server is "
          + "reachable; then run the command again", k);
    }
    if (ex instanceof AirlockException a) {
      int code = ExitCodes.of(a);
      if (wantsJson(parsed)) {
        var n = Console.JSON.createObjectNode().put("type", "error").put("message", a.getMessage())
            .put("exitCode", code);
        a.fix().ifPresent(f -> n.put("fix", f));
        if (!a.data().isEmpty()) {
          n.set("data", Console.JSON.valueToTree(a.data()));
        }
        System.out.println(n);
        System.out.flush();
      }
      PrintWriter err = cmd.getErr();
      err.println("error: " + a.getMessage());
      a.fix().ifPresent(f -> err.println("  fix: " + f));
      err.flush();
      return code;
    }
    PrintWriter err = cmd.getErr();
    err.println("error: internal error in airlock: " + ex);
    ex.printStackTrace(err);
    err.println("  this is a bug; please report it with the output above");
    err.flush();
    return ExitCodes.INTERNAL;
  }
}
