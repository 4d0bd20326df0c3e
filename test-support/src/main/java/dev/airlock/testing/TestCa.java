package dev.airlock.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** A throw-away certificate authority and a server certificate for 127.0.0.1 and localhost, as PEM files. */
public final class TestCa {

  /** PEM files written for a TLS server. */
  public record Files3(Path caCert, Path serverCert, Path serverKey) {}

  private TestCa() {}

  public static Files3 write(Path dir) {
    try {
      Files.createDirectories(dir);
      Pki pki = Pki.create("airlock test CA");
      Pki.Issued server = pki.server("127.0.0.1", List.of("127.0.0.1", "localhost"));
      Path caFile = dir.resolve("ca.pem");
      Path certFile = dir.resolve("server.pem");
      Path keyFile = dir.resolve("server.key");
      Files.writeString(caFile, pki.caPem());
      Files.writeString(certFile, server.certPem() + pki.caPem());
      Files.writeString(keyFile, server.keyPem());
      return new Files3(caFile, certFile, keyFile);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
