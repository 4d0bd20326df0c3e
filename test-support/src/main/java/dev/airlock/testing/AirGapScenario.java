package dev.airlock.testing;

import dev.airlock.testing.kube.MockKubeApi;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The whole install in a network with nothing but loopback: run inside {@code unshare --net} (as root), it checks
 * that no interface but {@code lo} is up and no outside address answers, starts the company registry and the mock
 * API server on loopback, and runs {@code airlock install} and {@code airlock status}. Exits with the first non-zero
 * exit code, or 0.
 *
 * <p>Arguments: the launcher, and a directory holding {@code platform.airlock}, {@code acme.license} and
 * {@code root.pub}.
 */
public final class AirGapScenario {

  private AirGapScenario() {}

  public static void main(String[] args) throws Exception {
    Path launcher = Path.of(args[0]);
    Path work = Path.of(args[1]);
    for (NetworkInterface n : Collections.list(NetworkInterface.getNetworkInterfaces())) {
      if (n.isUp() && !n.isLoopback()) {
        System.err.println("not air-gapped: interface " + n.getName() + " is up");
        System.exit(90);
      }
    }
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("1.1.1.1", 443), 2000);
      System.err.println("not air-gapped: 1.1.1.1:443 answered");
      System.exit(91);
    } catch (IOException expected) {
      System.out.println("no route out: " + expected.getMessage());
    }
    try (RegistryServer company = RegistryServer.startSecure("admin", "corp-pass");
        MockKubeApi cluster = MockKubeApi.start()) {
      int install = run(work, "corp-pass\n", launcher.toString(), "install", "--bundle", "platform.airlock",
          "--license", "acme.license", "--trust-root", "root.pub", "--registry", company.host() + "/platform",
          "--registry-username", "admin", "--registry-password-stdin", "--registry-ca", company.caFile().toString(),
          "--kubeconfig", cluster.kubeconfig().toString(), "--yes");
      if (install != 0) {
        System.exit(install);
      }
      System.exit(run(work, null, launcher.toString(), "status", "--kubeconfig", cluster.kubeconfig().toString()));
    }
  }

  private static int run(Path work, String stdin, String... cmd) throws Exception {
    Process p = new ProcessBuilder(List.of(cmd)).directory(work.toFile()).redirectErrorStream(true).start();
    if (stdin != null) {
      p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
    }
    p.getOutputStream().close();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(5, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      return 124;
    }
    System.out.write(out);
    System.out.flush();
    Files.writeString(work.resolve(".airgap-" + cmd[1] + ".log"), new String(out, StandardCharsets.UTF_8));
    return p.exitValue();
  }
}
