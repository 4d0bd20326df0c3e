package dev.airlock.oci;

import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/** Builds an SSL context that trusts the JVM's CAs plus the given PEM files (a company CA). */
public final class TlsSupport {

  private TlsSupport() {}

  public static SSLContext sslContext(List<Path> caFiles) {
    try {
      if (caFiles.isEmpty()) {
        return SSLContext.getDefault();
      }
      KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
      store.load(null, null);
      TrustManagerFactory defaults = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      defaults.init((KeyStore) null);
      int i = 0;
      for (var tm : defaults.getTrustManagers()) {
        if (tm instanceof X509TrustManager x) {
          for (X509Certificate c : x.getAcceptedIssuers()) {
            store.setCertificateEntry("default-" + i++, c);
          }
        }
      }
      CertificateFactory cf = CertificateFactory.getInstance("X.509");
      for (Path file : caFiles) {
        int before = i;
        try (InputStream in = Files.newInputStream(file)) {
          for (Certificate c : cf.generateCertificates(in)) {
            store.setCertificateEntry("extra-" + i++, c);
          }
        } catch (IOException | GeneralSecurityException e) {
          throw new AirlockException(Kind.BAD_INPUT, "cannot read CA certificates from " + file + ": "
              + e.getMessage(), "pass a PEM file with the registry's CA certificate", e);
        }
        if (i == before) {
          throw new AirlockException(Kind.BAD_INPUT, file + " holds no certificate",
              "pass a PEM file with the registry's CA certificate");
        }
      }
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(store);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, tmf.getTrustManagers(), null);
      return ctx;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("cannot set up TLS: " + e.getMessage(), e);
    }
  }
}
