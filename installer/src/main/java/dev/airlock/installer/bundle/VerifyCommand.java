package dev.airlock.installer.bundle;

import dev.airlock.bundle.BundleVerifier;
import dev.airlock.installer.cli.Console;
import dev.airlock.installer.cli.OutputOptions;
import dev.airlock.installer.cli.TrustOptions;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code airlock bundle verify}. */
@Command(name = "verify", mixinStandardHelpOptions = true, description = {"Check a bundle completely: certificate chain to a trusted root, signature, "
    + "every file's checksum and every blob's digest. Exit 0 only when all holds."})
public class VerifyCommand implements Callable<Integer> {

  @Parameters(index = "0", paramLabel = "FILE", description = "the bundle file")
  Path file;

  @Mixin TrustOptions trust;
  @Mixin OutputOptions output;

  @Override
  public Integer call() {
    Console console = new Console(output);
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
