package dev.airlock.testing;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A throw-away certificate authority for tests (EC P-256): server certificates for loopback names and client
 * certificates whose subject carries a Kubernetes user (CN) and groups (O).
 */
public final class Pki {

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Duration VALIDITY = Duration.ofDays(7);

  private final KeyPair caKeys;
  private final X509Certificate caCert;

  /** A certificate and its key pair, with PEM forms. */
  public record Issued(X509Certificate certificate, KeyPair keys) {
    public String certPem() {
      return pem(certificate);
    }

    public String keyPem() {
      return Pki.keyPem(keys);
    }

    public PrivateKey key() {
      return keys.getPrivate();
    }
  }

  private Pki(KeyPair caKeys, X509Certificate caCert) {
    this.caKeys = caKeys;
    this.caCert = caCert;
  }

  /** A new CA named {@code name}. */
  public static Pki create(String name) {
    try {
      KeyPair keys = ecKeys();
      X500Name subject = new X500Name("CN=" + name);
      Instant now = Instant.now();
      X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject, serial(),
          Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(VALIDITY)), subject, keys.getPublic());
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
      b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign
          | KeyUsage.digitalSignature));
      return new Pki(keys, sign(b, keys.getPrivate()));
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("cannot create a test CA: " + e.getMessage(), e);
    }
  }

  public X509Certificate caCertificate() {
    return caCert;
  }

  public String caPem() {
    return pem(caCert);
  }

  public Issued ca() {
    return new Issued(caCert, caKeys);
  }

  /** A TLS server certificate for {@code names}: IP addresses and DNS names. */
  public Issued server(String commonName, List<String> names) {
    return issue(new X500Name("CN=" + commonName), names, KeyPurposeId.id_kp_serverAuth);
  }

  /** A TLS client certificate for Kubernetes user {@code user} in {@code groups}. */
  public Issued client(String user, List<String> groups) {
    X500NameBuilder name = new X500NameBuilder(BCStyle.INSTANCE);
    for (String g : groups) {
      name.addRDN(BCStyle.O, g);
    }
    name.addRDN(BCStyle.CN, user);
    return issue(name.build(), List.of(), KeyPurposeId.id_kp_clientAuth);
  }

  private Issued issue(X500Name subject, List<String> names, KeyPurposeId purpose) {
    try {
      KeyPair keys = ecKeys();
      Instant now = Instant.now();
      X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(caCert, serial(),
          Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(VALIDITY)), subject, keys.getPublic());
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
      b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose));
      if (!names.isEmpty()) {
        List<GeneralName> sans = new ArrayList<>();
        for (String n : names) {
          sans.add(isIp(n) ? new GeneralName(GeneralName.iPAddress, n) : new GeneralName(GeneralName.dNSName, n));
        }
        b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans.toArray(GeneralName[]::new)));
      }
      return new Issued(sign(b, caKeys.getPrivate()), keys);
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("cannot issue a test certificate: " + e.getMessage(), e);
    }
  }

  private static boolean isIp(String n) {
    if (!n.matches("[0-9.]+|[0-9a-fA-F:]+:[0-9a-fA-F:.]*")) {
      return false;
    }
    try {
      InetAddress.getByName(n);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * A self-signed RSA-2048 certificate (SHA256withRSA) and its key, as SAML signing and encryption need (XML
   * encryption transports keys with RSA-OAEP).
   */
  public static Issued selfSignedRsa(String commonName) {
    try {
      KeyPairGenerator gen = KeyPairGenerator.getInstance("RSA");
      gen.initialize(2048, RANDOM);
      KeyPair keys = gen.generateKeyPair();
      X500Name subject = new X500Name("CN=" + commonName);
      Instant now = Instant.now();
      X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject, serial(),
          Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(VALIDITY)), subject, keys.getPublic());
      X509Certificate cert = new JcaX509CertificateConverter().getCertificate(b.build(
          new JcaContentSignerBuilder("SHA256withRSA").build(keys.getPrivate())));
      return new Issued(cert, keys);
    } catch (GeneralSecurityException | org.bouncycastle.operator.OperatorCreationException e) {
      throw new IllegalStateException("cannot create a test RSA certificate: " + e.getMessage(), e);
    }
  }

  /** PEM of a private key in PKCS#8 form ({@code PRIVATE KEY}). */
  public static String pkcs8Pem(PrivateKey key) {
    return "-----BEGIN PRIVATE KEY-----\n" + java.util.Base64.getMimeEncoder(64, "\n".getBytes(
        java.nio.charset.StandardCharsets.US_ASCII)).encodeToString(key.getEncoded()) + "\n-----END PRIVATE KEY-----\n";
  }

  /** A fresh EC P-256 key pair. */
  public static KeyPair ecKeys() throws GeneralSecurityException {
    KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
    gen.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
    return gen.generateKeyPair();
  }

  private static BigInteger serial() {
    return new BigInteger(64, RANDOM).add(BigInteger.ONE);
  }

  private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey key) throws GeneralSecurityException {
    try {
      return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA")
          .build(key)));
    } catch (org.bouncycastle.operator.OperatorCreationException e) {
      throw new GeneralSecurityException(e);
    }
  }

  /** PEM of a certificate or public key. */
  public static String pem(Object o) {
    StringWriter w = new StringWriter();
    try (JcaPEMWriter pw = new JcaPEMWriter(w)) {
      pw.writeObject(o);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return w.toString();
  }

  /**
   * PEM of a key pair's private key in OpenSSL's traditional form ({@code EC PRIVATE KEY}), which every client reads; fabric8
   * does not read EC keys in PKCS#8 form.
   */
  public static String keyPem(KeyPair keys) {
    PrivateKey key = keys.getPrivate();
    if (!"EC".equals(key.getAlgorithm())) {
      return pem(key);
    }
    try {
      // The JDK's encoding leaves the curve out of the inner structure; OpenSSL, Go and fabric8 need it there.
      org.bouncycastle.asn1.pkcs.PrivateKeyInfo info = org.bouncycastle.asn1.pkcs.PrivateKeyInfo.getInstance(
          key.getEncoded());
      org.bouncycastle.asn1.sec.ECPrivateKey inner = org.bouncycastle.asn1.sec.ECPrivateKey.getInstance(
          info.parsePrivateKey());
      org.bouncycastle.asn1.sec.ECPrivateKey full = new org.bouncycastle.asn1.sec.ECPrivateKey(256, inner.getKey(),
          org.bouncycastle.asn1.x509.SubjectPublicKeyInfo.getInstance(keys.getPublic().getEncoded())
              .getPublicKeyData(), info.getPrivateKeyAlgorithm().getParameters());
      return pem(new org.bouncycastle.util.io.pem.PemObject("EC PRIVATE KEY", full.getEncoded()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
