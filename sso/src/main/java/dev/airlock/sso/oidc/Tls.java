package dev.airlock.sso.oidc;

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
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;

/** TLS trust for an IdP behind a company CA: the JVM's CAs plus the connector's {@code caFile}. */
public final class Tls {

  private Tls() {}

  public static SSLContext context(Path caFile) {
    try {
      KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
      ks.load(null, null);
      TrustManagerFactory defaults = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      defaults.init((KeyStore) null);
      int i = 0;
      for (var tm : defaults.getTrustManagers()) {
        if (tm instanceof javax.net.ssl.X509TrustManager x) {
          for (var c : x.getAcceptedIssuers()) {
            ks.setCertificateEntry("jvm-" + i++, c);
          }
        }
      }
      try (InputStream in = Files.newInputStream(caFile)) {
        for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
          ks.setCertificateEntry("ca-" + i++, c);
        }
      }
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(ks);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, tmf.getTrustManagers(), null);
      return ctx;
    } catch (IOException | GeneralSecurityException e) {
      throw new AirlockException(Kind.BAD_INPUT, "caFile " + caFile + " is not a readable PEM CA certificate",
          "pass the CA that signs the IdP's TLS certificate, in PEM", e).with(AirlockException.FILE, caFile);
    }
  }

  public static SSLSocketFactory socketFactory(Path caFile) {
    return context(caFile).getSocketFactory();
  }
}
