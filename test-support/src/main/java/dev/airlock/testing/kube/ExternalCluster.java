package dev.airlock.testing.kube;

import dev.airlock.testing.Pki;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequest;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequestBuilder;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequestConditionBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/**
 * A cluster someone else runs (a kubeconfig with cluster-admin rights): nothing is started or stopped. Kubeconfigs
 * for other users are minted through the CertificateSigningRequest API ({@code kube-apiserver-client} signer).
 */
public class ExternalCluster implements TestCluster {

  private final Path kubeconfig;
  private final KubernetesClient client;
  private final String tier;

  public ExternalCluster(Path kubeconfig, String tier) {
    this.kubeconfig = kubeconfig;
    this.tier = tier;
    try {
      this.client = new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(Files.readString(kubeconfig)))
          .build();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public Path kubeconfig() {
    return kubeconfig;
  }

  @Override
  public KubernetesClient client() {
    return client;
  }

  @Override
  public String tier() {
    return tier;
  }

  @Override
  public boolean standInKubelet() {
    return false;
  }

  @Override
  public Path kubeconfigFor(String user, List<String> groups) {
    try {
      KeyPair keys = Pki.ecKeys();
      X500NameBuilder name = new X500NameBuilder(BCStyle.INSTANCE);
      groups.forEach(g -> name.addRDN(BCStyle.O, g));
      name.addRDN(BCStyle.CN, user);
      var csr = new JcaPKCS10CertificationRequestBuilder(name.build(), keys.getPublic())
          .build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate()));
      StringWriter pem = new StringWriter();
      try (JcaPEMWriter w = new JcaPEMWriter(pem)) {
        w.writeObject(csr);
      }
      String csrName = TestCluster.uniqueName("airlock-test-" + user.replaceAll("[^a-z0-9-]", "-"));
      client.certificates().v1().certificateSigningRequests().resource(new CertificateSigningRequestBuilder()
          .withNewMetadata().withName(csrName).endMetadata().withNewSpec()
          .withRequest(Base64.getEncoder().encodeToString(pem.toString().getBytes(StandardCharsets.UTF_8)))
          .withSignerName("kubernetes.io/kube-apiserver-client").withUsages("client auth")
          .withExpirationSeconds(86400).endSpec().build()).create();
      client.certificates().v1().certificateSigningRequests().withName(csrName).approve(
          new CertificateSigningRequestConditionBuilder().withType("Approved").withStatus("True")
              .withReason("AirlockTest").withMessage("approved by the test harness").build());
      String cert = null;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (cert == null && System.nanoTime() < deadline) {
        CertificateSigningRequest r = client.certificates().v1().certificateSigningRequests().withName(csrName).get();
        if (r.getStatus() != null && r.getStatus().getCertificate() != null
            && !r.getStatus().getCertificate().isEmpty()) {
          cert = r.getStatus().getCertificate();
        } else {
          Thread.sleep(100);
        }
      }
      if (cert == null) {
        throw new IllegalStateException("the cluster did not sign CSR " + csrName + " within 30 s");
      }
      Config admin = client.getConfiguration();
      String ca = admin.getCaCertData() != null ? admin.getCaCertData()
          : Base64.getEncoder().encodeToString(Files.readAllBytes(Path.of(admin.getCaCertFile())));
      String yaml = "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: "
          + admin.getMasterUrl() + "\n    certificate-authority-data: " + ca + "\nusers:\n- name: " + user
          + "\n  user:\n    client-certificate-data: " + cert + "\n    client-key-data: "
          + Base64.getEncoder().encodeToString(Pki.keyPem(keys).getBytes(StandardCharsets.UTF_8))
          + "\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: " + user + "\ncurrent-context: c\n";
      Path file = Files.createTempFile("airlock-user-" + user.replaceAll("[^A-Za-z0-9]", "_"), ".kubeconfig");
      Files.writeString(file, yaml);
      return file;
    } catch (Exception e) {
      throw new IllegalStateException("cannot mint a kubeconfig for " + user + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    client.close();
  }
}
