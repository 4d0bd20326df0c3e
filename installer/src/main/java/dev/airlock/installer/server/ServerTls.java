package dev.airlock.installer.server;

import dev.airlock.airgap.serve.ServeTls;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.kube.KubeTarget;
import dev.airlock.kube.Secrets;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The server's TLS certificate when none is given: the Secret {@value #SECRET} of type {@value #TYPE} ({@code tls.crt},
 * {@code tls.key}), made self-signed by the first replica (for the service's DNS names and the listen host) and shared
 * by the others. One made by an earlier airlock as an Opaque Secret with the same keys is read as it is.
 */
final class ServerTls {

  static final String SECRET = "airlock-server-tls";
  static final String TYPE = "kubernetes.io/tls";

  private ServerTls() {}

  static ServeTls.Material fromSecretOrNew(KubeTarget target, String namespace, List<String> hosts) {
    var client = target.client();
    try {
      Secret s = client.secrets().inNamespace(namespace).withName(SECRET).get();
      if (s == null) {
        List<String> names = new ArrayList<>(List.of("airlock", "airlock." + namespace, "airlock." + namespace
            + ".svc", "localhost"));
        hosts.stream().filter(h -> !h.equals("0.0.0.0") && !h.equals("::")).forEach(names::add);
        String[] pem = selfSigned(names);
        try {
          Secret made = Secrets.opaque(namespace, SECRET, Map.of("tls.crt", pem[0], "tls.key", pem[1]));
          made.setType(TYPE);
          client.secrets().inNamespace(namespace).resource(made).create();
        } catch (KubernetesClientException e) {
          if (e.getCode() != 409) {
            throw e;
          }
        }
        s = client.secrets().inNamespace(namespace).withName(SECRET).get();
      }
      Path dir = Files.createTempDirectory("airlock-tls", PosixFilePermissions.asFileAttribute(
          PosixFilePermissions.fromString("rwx------")));
      try {
        Secret found = s;
        java.util.function.Function<String, String> field = k -> Secrets.value(found, k).orElseThrow(() ->
            new AirlockException(Kind.BAD_INPUT, "Secret " + namespace + "/" + SECRET + " has no " + k,
                "delete it (a new self-signed one is made) or give --tls-cert and --tls-key"));
        Path cert = Files.writeString(dir.resolve("tls.crt"), field.apply("tls.crt"));
        Path key = Files.writeString(dir.resolve("tls.key"), field.apply("tls.key"));
        return ServeTls.fromPem(cert, key);
      } finally {
        try (var files = Files.list(dir)) {
          for (Path f : files.toList()) {
            Files.deleteIfExists(f);
          }
        }
        Files.deleteIfExists(dir);
      }
    } catch (IOException | GeneralSecurityException | KubernetesClientException e) {
      throw new AirlockException(Kind.REMOTE, "cannot read or make the server's TLS certificate (Secret " + namespace
          + "/" + SECRET + "): " + e.getMessage(), "give --tls-cert and --tls-key, or check the rights on Secrets", e);
    }
  }

  private static String[] selfSigned(List<String> names) throws GeneralSecurityException {
    KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
    gen.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
    KeyPair keys = gen.generateKeyPair();
    try {
      X500Name subject = new X500Name("CN=airlock server");
      Instant now = Instant.now();
      JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject, new BigInteger(64, new SecureRandom()),
          Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(Duration.ofDays(825))), subject,
          keys.getPublic());
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      List<GeneralName> sans = new ArrayList<>();
      for (String n : names) {
        sans.add(n.matches("[0-9.]+") ? new GeneralName(GeneralName.iPAddress, n)
            : new GeneralName(GeneralName.dNSName, n));
      }
      b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans.toArray(GeneralName[]::new)));
      X509Certificate cert = new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder(
          "SHA256withECDSA").build(keys.getPrivate())));
      return new String[] {pem("CERTIFICATE", cert.getEncoded()), pem("PRIVATE KEY", keys.getPrivate().getEncoded())};
    } catch (org.bouncycastle.operator.OperatorCreationException | IOException e) {
      throw new GeneralSecurityException(e);
    }
  }

  static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
        + "\n-----END " + type + "-----\n";
  }
}
