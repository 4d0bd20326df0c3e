package dev.airlock.testing;

import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** A throw-away certificate authority and a server certificate for 127.0.0.1 and localhost. */
public final class TestCa {

  /** PEM files written for a TLS server. */
  public record Files3(Path caCert, Path serverCert, Path serverKey) {}

  private TestCa() {}

  public static Files3 write(Path dir) {
    try {
      Files.createDirectories(dir);
      KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
      gen.initialize(256);
      KeyPair ca = gen.generateKeyPair();
      KeyPair server = gen.generateKeyPair();
      Instant now = Instant.now();
      X500Name caName = new X500Name("CN=airlock test CA");
      X509v3CertificateBuilder cab = new JcaX509v3CertificateBuilder(caName, BigInteger.ONE,
          Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(2))), caName, ca.getPublic());
      cab.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
      cab.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      X509Certificate caCert = new JcaX509CertificateConverter().getCertificate(
          cab.build(new JcaContentSignerBuilder("SHA256withECDSA").build(ca.getPrivate())));
      X509v3CertificateBuilder sb = new JcaX509v3CertificateBuilder(caName, BigInteger.TWO,
          Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(2))),
          new X500Name("CN=127.0.0.1"), server.getPublic());
      sb.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
          new GeneralName(GeneralName.iPAddress, "127.0.0.1"), new GeneralName(GeneralName.dNSName, "localhost")}));
      sb.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      X509Certificate serverCert = new JcaX509CertificateConverter().getCertificate(
          sb.build(new JcaContentSignerBuilder("SHA256withECDSA").build(ca.getPrivate())));
      Path caFile = dir.resolve("ca.pem");
      Path certFile = dir.resolve("server.pem");
      Path keyFile = dir.resolve("server.key");
      Files.writeString(caFile, pem(caCert));
      Files.writeString(certFile, pem(serverCert) + pem(caCert));
      Files.writeString(keyFile, pem(new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(server.getPrivate(), null)));
      return new Files3(caFile, certFile, keyFile);
    } catch (Exception e) {
      throw new IllegalStateException("cannot create test CA: " + e.getMessage(), e);
    }
  }

  private static String pem(Object o) throws IOException {
    StringWriter w = new StringWriter();
    try (JcaPEMWriter pw = new JcaPEMWriter(w)) {
      pw.writeObject(o);
    }
    return w.toString();
  }
}
