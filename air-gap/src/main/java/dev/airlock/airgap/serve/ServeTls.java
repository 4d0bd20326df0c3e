package dev.airlock.airgap.serve;

import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import java.io.IOException;
import java.io.Reader;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * TLS for {@code bundle serve}: a certificate and key from PEM files (PKCS#8, PKCS#1 or SEC1 keys; the certificate
 * file may carry the chain), or a self-signed certificate made at start for the names the server is reached by.
 */
public final class ServeTls {

  /** The TLS context and what a client needs to trust it. */
  public record Material(SSLContext context, X509Certificate certificate, String sha256Fingerprint) {
    /** The certificate as PEM, for a client's trust store. */
    public String certificatePem() {
      java.io.StringWriter w = new java.io.StringWriter();
      try (JcaPEMWriter pw = new JcaPEMWriter(w)) {
        pw.writeObject(certificate);
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
      return w.toString();
    }
  }

  private ServeTls() {}

  /** From {@code --tls-cert} and {@code --tls-key}. */
  public static Material fromPem(Path certFile, Path keyFile) {
    List<X509Certificate> chain = new ArrayList<>();
    try (var in = Files.newInputStream(certFile)) {
      for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        chain.add((X509Certificate) c);
      }
    } catch (IOException | GeneralSecurityException e) {
      throw new AirlockException(Kind.BAD_INPUT, "--tls-cert " + certFile + " is not a PEM certificate (chain)",
          "pass the server certificate in PEM, leaf first", e).with(AirlockException.FILE, certFile);
    }
    if (chain.isEmpty()) {
      throw new AirlockException(Kind.BAD_INPUT, "--tls-cert " + certFile + " holds no certificate",
          "pass the server certificate in PEM, leaf first").with(AirlockException.FILE, certFile);
    }
    PrivateKey key = readKey(keyFile);
    return material(chain, key);
  }

  private static PrivateKey readKey(Path keyFile) {
    try (Reader r = Files.newBufferedReader(keyFile); PEMParser p = new PEMParser(r)) {
      Object o;
      try {
        o = p.readObject();
      } catch (IOException e) {
        // A SEC1 key without its public part: BC's parser wants both; the private part is enough here.
        return sec1PrivateOnly(keyFile);
      }
      JcaPEMKeyConverter conv = new JcaPEMKeyConverter();
      if (o instanceof PEMKeyPair kp) {
        return conv.getKeyPair(kp).getPrivate();
      }
      if (o instanceof PrivateKeyInfo info) {
        return conv.getPrivateKey(info);
      }
      throw new AirlockException(Kind.BAD_INPUT, "--tls-key " + keyFile + " is not an unencrypted PEM private key",
          "pass the key in PEM (PKCS#8, PKCS#1 or SEC1), without a passphrase").with(AirlockException.FILE, keyFile);
    } catch (IOException e) {
      throw new AirlockException(Kind.BAD_INPUT, "--tls-key " + keyFile + " cannot be read as a PEM private key",
          "pass the key in PEM (PKCS#8, PKCS#1 or SEC1)", e).with(AirlockException.FILE, keyFile);
    }
  }

  private static PrivateKey sec1PrivateOnly(Path keyFile) throws IOException {
    try (Reader r = Files.newBufferedReader(keyFile);
        org.bouncycastle.util.io.pem.PemReader pr = new org.bouncycastle.util.io.pem.PemReader(r)) {
      org.bouncycastle.util.io.pem.PemObject pem = pr.readPemObject();
      if (pem == null || !pem.getType().equals("EC PRIVATE KEY")) {
        throw new IOException("not an EC private key");
      }
      org.bouncycastle.asn1.sec.ECPrivateKey ec = org.bouncycastle.asn1.sec.ECPrivateKey.getInstance(
          pem.getContent());
      PrivateKeyInfo info = new PrivateKeyInfo(new org.bouncycastle.asn1.x509.AlgorithmIdentifier(
          org.bouncycastle.asn1.x9.X9ObjectIdentifiers.id_ecPublicKey, ec.getParametersObject()), ec);
      return new JcaPEMKeyConverter().getPrivateKey(info);
    }
  }

  /** A self-signed certificate (EC P-256, 30 days) for {@code names}: host names and IP addresses. */
  public static Material selfSigned(List<String> names) {
    try {
      KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
      gen.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
      KeyPair keys = gen.generateKeyPair();
      X500Name subject = new X500Name("CN=airlock bundle serve");
      Instant now = Instant.now();
      JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject, new BigInteger(64, new SecureRandom()),
          Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(Duration.ofDays(30))), subject,
          keys.getPublic());
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
      List<GeneralName> sans = new ArrayList<>();
      for (String n : names) {
        sans.add(isAddress(n) ? new GeneralName(GeneralName.iPAddress, n) : new GeneralName(GeneralName.dNSName, n));
      }
      b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans.toArray(GeneralName[]::new)));
      X509Certificate cert = new JcaX509CertificateConverter().getCertificate(b.build(
          new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())));
      return material(List.of(cert), keys.getPrivate());
    } catch (GeneralSecurityException | org.bouncycastle.operator.OperatorCreationException
        | org.bouncycastle.cert.CertIOException e) {
      throw new IllegalStateException("cannot make a self-signed certificate: " + e.getMessage(), e);
    }
  }

  private static boolean isAddress(String n) {
    if (!n.matches("[0-9.]+|[0-9a-fA-F:]*:[0-9a-fA-F:.]*")) {
      return false;
    }
    try {
      InetAddress.getByName(n);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static Material material(List<X509Certificate> chain, PrivateKey key) {
    try {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      char[] pass = new char[0];
      ks.setKeyEntry("serve", key, pass, chain.toArray(Certificate[]::new));
      KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(ks, pass);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(kmf.getKeyManagers(), null, null);
      String fp = HexFormat.ofDelimiter(":").withUpperCase().formatHex(MessageDigest.getInstance("SHA-256")
          .digest(chain.get(0).getEncoded()));
      return new Material(ctx, chain.get(0), fp);
    } catch (IOException | GeneralSecurityException e) {
      throw new AirlockException(Kind.BAD_INPUT, "the TLS certificate and key do not make a usable pair: "
          + e.getMessage(), "pass a --tls-key that belongs to the --tls-cert", e);
    }
  }
}
