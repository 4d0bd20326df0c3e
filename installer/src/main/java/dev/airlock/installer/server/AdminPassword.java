package dev.airlock.installer.server;

import dev.airlock.kube.Secrets;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;

/**
 * The break-glass admin's password: made once, shown once, kept only as a PBKDF2-SHA256 hash (210,000 iterations,
 * a random salt) in the Secret {@value AirlockServer#ADMIN_SECRET}.
 */
public final class AdminPassword {

  static final int ITERATIONS = 210_000;
  private static final SecureRandom RANDOM = new SecureRandom();

  private AdminPassword() {}

  /** Makes the password if there is none; returns it (to show once), or null when one existed. */
  public static String ensure(KubernetesClient client, String namespace) {
    if (client.secrets().inNamespace(namespace).withName(AirlockServer.ADMIN_SECRET).get() != null) {
      return null;
    }
    byte[] b = new byte[18];
    RANDOM.nextBytes(b);
    String password = Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    try {
      client.secrets().inNamespace(namespace).resource(Secrets.opaque(namespace, AirlockServer.ADMIN_SECRET,
          Map.of("password-hash", hash(password)))).create();
      return password;
    } catch (KubernetesClientException e) {
      if (e.getCode() == 409) {
        return null; // another replica made it, and showed it
      }
      throw e;
    }
  }

  static String hash(String password) {
    byte[] salt = new byte[16];
    RANDOM.nextBytes(salt);
    return "pbkdf2-sha256$" + ITERATIONS + "$" + Base64.getEncoder().encodeToString(salt) + "$"
        + Base64.getEncoder().encodeToString(derive(password, salt, ITERATIONS));
  }

  static boolean matches(String password, String stored) {
    String[] parts = stored.split("\\$");
    if (parts.length != 4 || !parts[0].equals("pbkdf2-sha256")) {
      return false;
    }
    try {
      byte[] salt = Base64.getDecoder().decode(parts[2]);
      byte[] want = Base64.getDecoder().decode(parts[3]);
      return MessageDigest.isEqual(want, derive(password, salt, Integer.parseInt(parts[1])));
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private static byte[] derive(String password, byte[] salt, int iterations) {
    try {
      return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(new PBEKeySpec(
          password.toCharArray(), salt, iterations, 256)).getEncoded();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
