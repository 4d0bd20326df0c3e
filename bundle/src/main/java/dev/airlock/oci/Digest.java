package dev.airlock.oci;

import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/** A content digest; only sha256 is accepted, which is what every registry and OCI layout uses. */
public record Digest(String hex) implements Comparable<Digest> {

  private static final Pattern HEX = Pattern.compile("[0-9a-f]{64}");

  public Digest {
    if (hex == null || !HEX.matcher(hex).matches()) {
      throw new AirlockException(Kind.BAD_INPUT, "'" + hex + "' is not a sha256 digest (64 lowercase hex digits)",
          null);
    }
  }

  /** Parses {@code sha256:<64 hex>}. */
  public static Digest parse(String text) {
    if (text == null || !text.startsWith("sha256:")) {
      throw new AirlockException(Kind.BAD_INPUT, "'" + text + "' is not a digest of the form sha256:<64 hex digits>",
          null);
    }
    return new Digest(text.substring(7));
  }

  public static boolean isDigest(String text) {
    return text != null && text.startsWith("sha256:") && HEX.matcher(text.substring(7)).matches();
  }

  public static Digest of(byte[] content) {
    return new Digest(HexFormat.of().formatHex(sha256().digest(content)));
  }

  public static Digest of(MessageDigest finished) {
    return new Digest(HexFormat.of().formatHex(finished.digest()));
  }

  public static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Path of this blob inside an OCI image layout. */
  public String layoutPath() {
    return "blobs/sha256/" + hex;
  }

  public String shortHex() {
    return hex.substring(0, 12);
  }

  @Override
  public String toString() {
    return "sha256:" + hex;
  }

  @Override
  public int compareTo(Digest o) {
    return hex.compareTo(o.hex);
  }
}
