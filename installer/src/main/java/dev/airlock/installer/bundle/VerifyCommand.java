package dev.airlock.installer.bundle;

import dev.airlock.bundle.BundleVerifier;
import dev.airlock.installer.cli.Console;
import dev.airlock.installer.cli.OutputOptions;
import dev.airlock.installer.cli.TrustOptions;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import dev.airlock.bundle.format.PartList;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code airlock bundle verify}. */
@Command(name = "verify", mixinStandardHelpOptions = true, description = {"Check a bundle completely: certificate chain to a trusted root, signature, "
    + "every file's checksum and every blob's digest. Exit 0 only when all holds."})
public class VerifyCommand implements Callable<Integer> {

  @Parameters(index = "0", paramLabel = "FILE", description = "the bundle: a file, a split bundle's first part, or "
      + "the directory holding the parts")
  Path file;

  @Option(names = "--part", paramLabel = "N", description = "check only part N of a split bundle: its size and "
      + "SHA-256 against the signed part list (for copying parts to media one at a time)")
  Integer part;

  @Mixin TrustOptions trust;
  @Mixin OutputOptions output;

  @Override
  public Integer call() {
    Console console = new Console(output);
    if (part != null) {
      PartList.Part p = new BundleVerifier(trust.roots(), Clock.systemUTC(), console).verifyPart(file, part);
      console.result(String.format("%s: OK — part %d, %s, SHA-256 as the signed part list says", p.name(), part,
          Console.bytes(p.size())), Console.JSON.createObjectNode().put("file", p.name()).put("valid", true)
          .put("part", part).put("size", p.size()).put("sha256", p.sha256()));
      return 0;
    }
    BundleVerifier.Verified v = new BundleVerifier(trust.roots(), Clock.systemUTC(), console).verify(file);
    String images = v.manifest().imagePolicy() == null ? "" : String.format(", %d of %d images' cosign signatures "
        + "verified offline (imagePolicy %s)", v.signedImages(), v.manifest().images().size(),
        v.manifest().imagePolicy().signatures());
    console.result(String.format("%s: OK — %s %s, signed by key %s (root %s), %d entries, %s checked%s", file,
        v.manifest().name(), v.manifest().version(), v.signerKeyId(), v.rootKeyId(), v.entries(),
        Console.bytes(v.bytes()), images),
        Console.JSON.createObjectNode().put("file", file.toString()).put("valid", true)
            .put("name", v.manifest().name()).put("version", v.manifest().version())
            .put("signer", v.signerKeyId()).put("root", v.rootKeyId()).put("entries", v.entries())
            .put("bytes", v.bytes()).put("signedImages", v.signedImages()));
    return 0;
  }
}
