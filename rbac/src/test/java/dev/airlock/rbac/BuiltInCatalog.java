package dev.airlock.rbac;

import dev.airlock.testing.kube.KubeBinaries;
import dev.airlock.testing.kube.LocalControlPlane;
import java.nio.file.Path;

/**
 * Refreshes {@code kubernetes-1.32-resources.json}, the catalog used for decisions without a cluster, from the
 * discovery of the local control plane (no CRDs): {@code java -cp … dev.airlock.rbac.BuiltInCatalog OUT.json}.
 */
public final class BuiltInCatalog {

  private BuiltInCatalog() {}

  public static void main(String[] args) throws Exception {
    StringBuilder why = new StringBuilder();
    KubeBinaries bins = KubeBinaries.fromEnvironment(why).orElseThrow(() -> new IllegalStateException(why.toString()));
    try (LocalControlPlane cp = LocalControlPlane.start(bins)) {
      Catalog c = Catalog.discover(cp.client());
      c.write(Path.of(args[0]));
      System.out.println(c.all().size() + " resources written to " + args[0]);
    }
  }
}
