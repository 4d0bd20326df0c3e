package dev.airlock.installer.keys;

import dev.airlock.installer.cli.Console;
import dev.airlock.installer.cli.OutputOptions;
import dev.airlock.error.AirlockException;
import dev.airlock.io.AtomicFiles;
import dev.airlock.keys.Ed25519;
import dev.airlock.keys.KeyFiles;
import dev.airlock.keys.KeyId;
import dev.airlock.keys.RevocationList;
import java.nio.file.Path;
import java.time.Duration;
import java.nio.file.Files;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code airlock keys ...}: the vendor's key chain. */
@Command(name = "keys", mixinStandardHelpOptions = true, description = "Create the vendor's root and signing keys.",
    subcommands = {KeysCommand.CreateRoot.class, KeysCommand.CreateSigning.class, KeysCommand.Revoke.class})
public class KeysCommand {

  /** {@code airlock keys create-root}. */
  @Command(name = "create-root", mixinStandardHelpOptions = true, description = {"Create the vendor root key: PREFIX.key (0600, keep it offline) and "
      + "PREFIX.pub (give it to installers)."})
  public static class CreateRoot implements Callable<Integer> {
    @Option(names = "--out", required = true, paramLabel = "PREFIX", description = "file prefix, e.g. keys/root")
    Path out;

    @Mixin OutputOptions output;

    @Override
    public Integer call() {
      KeyFiles.Written w = KeyFiles.createRoot(out);
      report(output, "root", w);
      return 0;
    }
  }

  /** {@code airlock keys create-signing}. */
  @Command(name = "create-signing", mixinStandardHelpOptions = true, description = {"Create a signing key certified by the root: PREFIX.key (0600), "
      + "PREFIX.pub and PREFIX.cert. Bundles and licenses are signed with it."})
  public static class CreateSigning implements Callable<Integer> {
    @Option(names = "--root-key", required = true, paramLabel = "FILE", description = "the root private key")
    Path rootKey;

    @Option(names = "--out", required = true, paramLabel = "PREFIX", description = "file prefix, e.g. keys/signing")
    Path out;

    @Option(names = "--validity", paramLabel = "DAYS", defaultValue = "365",
        description = "days the certificate is valid (default: ${DEFAULT-VALUE})")
    int validityDays;

    @Option(names = "--subject", paramLabel = "TEXT", defaultValue = "signing key",
        description = "who holds the key, for people reading the certificate")
    String subject;

    @Mixin OutputOptions output;

    @Override
    public Integer call() {
      if (validityDays < 1 || validityDays > 3650) {
        throw new AirlockException(AirlockException.Kind.BAD_INPUT,
            "--validity must be between 1 and 3650 days", null);
      }
      KeyFiles.Written w = KeyFiles.createSigning(rootKey, out, subject, Duration.ofDays(validityDays),
          Instant.now());
      report(output, "signing", w);
      return 0;
    }
  }

  /** {@code airlock keys revoke}. */
  @Command(name = "revoke", mixinStandardHelpOptions = true, description = {"Add signing key ids to the "
      + "root-signed revocation list (created if missing). Installers given the list refuse those keys."})
  public static class Revoke implements Callable<Integer> {
    @Option(names = "--root-key", required = true, paramLabel = "FILE", description = "the root private key")
    Path rootKey;

    @Option(names = "--key-id", required = true, paramLabel = "ID", split = ",",
        description = "signing key ids to revoke")
    List<String> keyIds;

    @Option(names = "--list", paramLabel = "FILE", defaultValue = "revoked.json",
        description = "the revocation list to extend (default: ${DEFAULT-VALUE})")
    Path list;

    @Mixin OutputOptions output;

    @Override
    public Integer call() {
      RevocationList previous = Files.exists(list)
          ? RevocationList.read(list) : null;
      Set<KeyId> ids = new TreeSet<>(
          Comparator.comparing(KeyId::value));
      keyIds.forEach(k -> ids.add(new KeyId(k)));
      RevocationList next = RevocationList.revoke(previous, ids,
          Ed25519.readPrivateKey(rootKey), Instant.now());
      AtomicFiles.write(list, next.toJson(), false, true);
      var json = Console.JSON.createObjectNode().put("file", list.toString()).put("sequence", next.sequence());
      json.set("revoked", Console.JSON.valueToTree(next.revoked()));
      new Console(output).result(list + ": " + next.revoked().size() + " revoked signing keys (sequence "
          + next.sequence() + "): " + String.join(", ", next.revoked()), json);
      return 0;
    }
  }

  static void report(OutputOptions output, String what, KeyFiles.Written w) {
    StringBuilder text = new StringBuilder("created " + what + " key " + w.keyId());
    var files = Console.JSON.createArrayNode();
    for (Path f : w.files()) {
      text.append("\n  ").append(f);
      files.add(f.toString());
    }
    var json = Console.JSON.createObjectNode().put("keyId", w.keyId().value()).put("kind", what);
    json.set("files", files);
    new Console(output).result(text.toString(), json);
  }
}
