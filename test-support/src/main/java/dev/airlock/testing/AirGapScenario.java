package dev.airlock.testing;

import dev.airlock.testing.kube.KubeBinaries;
import dev.airlock.testing.kube.LocalControlPlane;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Install, upgrade and a failing upgrade's rollback in a network with nothing but loopback: run inside
 * {@code unshare --net} (as root), it checks that no interface but {@code lo} is up and no outside address answers,
 * starts the company registry and a real Kubernetes control plane ({@link LocalControlPlane}) on loopback, and runs
 * {@code airlock install}, {@code upgrade} (no registry flags: what the install recorded), a broken {@code upgrade}
 * (must exit 5, rolled back) and {@code status}. Exits 0 when every step did what it should, else with the first
 * unexpected exit code.
 *
 * <p>Arguments: the launcher, and a directory holding {@code v1.airlock}, {@code v2.airlock}, {@code v3.airlock},
 * {@code acme.license} and {@code root.pub}.
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
    StringBuilder why = new StringBuilder();
    KubeBinaries bins = KubeBinaries.fromEnvironment(why).orElseThrow(() -> new IllegalStateException(why.toString()));
    try (RegistryServer company = RegistryServer.startSecure("admin", "corp-pass");
        LocalControlPlane cluster = LocalControlPlane.start(bins)) {
      String kubeconfig = cluster.kubeconfig().toString();
      expect(0, run(work, "corp-pass\n", launcher.toString(), "install", "--bundle", "v1.airlock", "--license",
          "acme.license", "--trust-root", "root.pub", "--registry", company.host() + "/platform",
          "--registry-username", "admin", "--registry-password-stdin", "--registry-ca", company.caFile().toString(),
          "--kubeconfig", kubeconfig, "--yes"));
      expect(0, run(work, null, launcher.toString(), "upgrade", "--bundle", "v2.airlock", "--trust-root", "root.pub",
          "--kubeconfig", kubeconfig, "--yes", "--timeout", "60"));
      expect(5, run(work, null, launcher.toString(), "upgrade", "--bundle", "v3.airlock", "--trust-root", "root.pub",
          "--kubeconfig", kubeconfig, "--yes", "--timeout", "60"));
      expect(0, run(work, null, launcher.toString(), "status", "--kubeconfig", kubeconfig));
    }
    System.exit(0);
  }

  private static void expect(int wanted, int exit) {
    if (exit != wanted) {
      System.err.println("expected exit " + wanted + ", got " + exit);
      System.exit(exit == 0 ? 92 : exit);
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
    List<String> shown = new ArrayList<>(List.of(cmd));
    shown.set(0, "airlock");
    System.out.println("$ " + String.join(" ", shown));
    System.out.write(out);
    System.out.flush();
    Files.writeString(work.resolve(".airgap-" + cmd[1] + ".log"), new String(out, StandardCharsets.UTF_8));
    return p.exitValue();
  }
}
