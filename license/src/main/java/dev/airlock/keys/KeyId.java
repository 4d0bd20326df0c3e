package dev.airlock.keys;

import dev.airlock.error.AirlockException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/** The id of an Ed25519 public key: the first 8 bytes of SHA-256 of the raw 32-byte key, in hex. */
public record KeyId(String value) {

  private static final Pattern FORM = Pattern.compile("[0-9a-f]{16}");

  public KeyId {
    if (value == null || !FORM.matcher(value).matches()) {
      throw new AirlockException(AirlockException.Kind.BAD_INPUT,
          "'" + value + "' is not a key id (16 lowercase hex digits)", null);
    }
  }

  public static KeyId of(byte[] rawPublicKey) {
    try {
      byte[] hash = MessageDigest.getInstance("SHA-256").digest(rawPublicKey);
      return new KeyId(HexFormat.of().formatHex(hash, 0, 8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public String toString() {
    return value;
  }
}
