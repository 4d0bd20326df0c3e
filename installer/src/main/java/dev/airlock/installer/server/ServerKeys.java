package dev.airlock.installer.server;

import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.kube.Secrets;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.Map;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The server's own keys, in the Secret {@value #SECRET} of its namespace, made by the first replica that starts
 * (the others read them): an AES-256 key that seals what the server hands out or keeps in the cluster (login
 * results, session cookies), and the EC key and certificate that sign registry tokens (the registry trusts the
 * certificate: {@code registry-cert.pem}).
 */
final class ServerKeys {

  static final String SECRET = "airlock-server-keys";
  private static final SecureRandom RANDOM = new SecureRandom();

  final byte[] sealKey;
  final ECPrivateKey registryKey;
  final X509Certificate registryCert;
  final String registryCertPem;

  private ServerKeys(byte[] sealKey, ECPrivateKey registryKey, X509Certificate registryCert, String certPem) {
    this.sealKey = sealKey;
    this.registryKey = registryKey;
    this.registryCert = registryCert;
    this.registryCertPem = certPem;
  }

  static ServerKeys load(KubernetesClient client, String namespace) {
    try {
      Secret s = client.secrets().inNamespace(namespace).withName(SECRET).get();
      if (s == null) {
        try {
          client.secrets().inNamespace(namespace).resource(generate(namespace)).create();
        } catch (KubernetesClientException e) {
          if (e.getCode() != 409) {
            throw e;
          }
          // another replica made them first
        }
        s = client.secrets().inNamespace(namespace).withName(SECRET).get();
      }
      byte[] seal = Base64.getDecoder().decode(Secrets.value(s, "seal-key").orElseThrow());
      String keyPem = Secrets.value(s, "registry-key.pem").orElseThrow();
      String certPem = Secrets.value(s, "registry-cert.pem").orElseThrow();
      PrivateKey key = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(Base64.getMimeDecoder()
          .decode(keyPem.replaceAll("-----[A-Z ]+-----", "").strip())));
      X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(
          new ByteArrayInputStream(certPem.getBytes(StandardCharsets.US_ASCII)));
      return new ServerKeys(seal, (ECPrivateKey) key, cert, certPem);
    } catch (KubernetesClientException e) {
      throw new AirlockException(Kind.REMOTE, "cannot read or create the server's keys (Secret " + namespace + "/"
          + SECRET + "): " + e.getMessage(), "the server's ServiceAccount needs get and create on Secrets in "
          + namespace, e);
    } catch (GeneralSecurityException | RuntimeException e) {
      throw new AirlockException(Kind.BAD_INPUT, "the Secret " + namespace + "/" + SECRET + " does not hold "
          + "usable keys", "delete it; the server makes new ones (sessions and registry tokens issued so far stop "
          + "working)", e);
    }
  }

  private static Secret generate(String namespace) throws GeneralSecurityException {
    byte[] seal = new byte[32];
    RANDOM.nextBytes(seal);
    KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
    gen.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
    KeyPair keys = gen.generateKeyPair();
    X509Certificate cert;
    try {
      X500Name subject = new X500Name("CN=airlock registry token issuer");
      Instant now = Instant.now();
      JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject, new BigInteger(64, RANDOM),
          Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(Duration.ofDays(3650))), subject,
          keys.getPublic());
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
      cert = new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA")
          .build(keys.getPrivate())));
    } catch (org.bouncycastle.operator.OperatorCreationException | java.io.IOException e) {
      throw new GeneralSecurityException(e);
    }
    String keyPem = "-----BEGIN PRIVATE KEY-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'})
        .encodeToString(keys.getPrivate().getEncoded()) + "\n-----END PRIVATE KEY-----\n";
    String certPem = "-----BEGIN CERTIFICATE-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'})
        .encodeToString(cert.getEncoded()) + "\n-----END CERTIFICATE-----\n";
    return Secrets.opaque(namespace, SECRET, Map.of("seal-key", Base64.getEncoder().encodeToString(seal),
        "registry-key.pem", keyPem, "registry-cert.pem", certPem));
  }

  /** Encrypts and authenticates {@code plain} (AES-256-GCM; {@code purpose} is bound in as associated data). */
  String seal(String purpose, byte[] plain) {
    try {
      byte[] iv = new byte[12];
      RANDOM.nextBytes(iv);
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
      c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(sealKey, "AES"), new GCMParameterSpec(128, iv));
      c.updateAAD(purpose.getBytes(StandardCharsets.UTF_8));
      byte[] ct = c.doFinal(plain);
      byte[] out = new byte[iv.length + ct.length];
      System.arraycopy(iv, 0, out, 0, iv.length);
      System.arraycopy(ct, 0, out, iv.length, ct.length);
      return Base64.getUrlEncoder().withoutPadding().encodeToString(out);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The plain bytes of a {@link #seal}ed value, or null when it was forged, edited or sealed for another purpose. */
  byte[] open(String purpose, String sealed) {
    try {
      byte[] in = Base64.getUrlDecoder().decode(sealed);
      if (in.length < 12 + 16) {
        return null;
      }
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
      c.init(Cipher.DECRYPT_MODE, new SecretKeySpec(sealKey, "AES"), new GCMParameterSpec(128, in, 0, 12));
      c.updateAAD(purpose.getBytes(StandardCharsets.UTF_8));
      return c.doFinal(in, 12, in.length - 12);
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      return null;
    }
  }
}
