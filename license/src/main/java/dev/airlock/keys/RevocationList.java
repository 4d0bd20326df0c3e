package dev.airlock.keys;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * The signing key ids a vendor has revoked, signed by the vendor's root (not by a signing key: a leaked signing key
 * must not be able to publish a list that forgives it). A newer list has a higher sequence and contains the older.
 *
 * @param version 1
 * @param sequence grows with every list
 * @param issued when the list was made
 * @param issuer id of the root key that signed it
 * @param revoked revoked signing key ids, sorted
 * @param signature root's signature over {@link #signedBytes()}, base64
 */
@JsonPropertyOrder({"version", "sequence", "issued", "issuer", "revoked", "signature"})
public record RevocationList(int version, long sequence, Instant issued, String issuer, List<String> revoked,
    String signature) {

  private static final ObjectMapper JSON = new ObjectMapper().findAndRegisterModules()
      .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true)
      .configure(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS, false)
      .enable(SerializationFeature.INDENT_OUTPUT);

  public RevocationList {
    revoked = revoked == null ? List.of() : List.copyOf(revoked);
  }

  public byte[] signedBytes() {
    return ("airlock-revocation-list-v1\nversion=" + version + "\nsequence=" + sequence + "\nissued=" + issued
        + "\nissuer=" + issuer + "\nrevoked=" + String.join(",", new TreeSet<>(revoked)) + "\n")
        .getBytes(StandardCharsets.UTF_8);
  }

  /** A new list: {@code previous} (if any) plus {@code more}, signed by {@code root}. */
  public static RevocationList revoke(RevocationList previous, Set<KeyId> more, Ed25519.PrivateKey root,
      Instant now) {
    TreeSet<String> all = new TreeSet<>();
    if (previous != null) {
      if (!previous.issuer.equals(root.id().value())) {
        throw new AirlockException(Kind.BAD_INPUT, "the existing list was signed by root " + previous.issuer
            + ", not by " + root.id(), "sign with the same root key");
      }
      all.addAll(previous.revoked);
    }
    more.forEach(k -> all.add(k.value()));
    Instant issued = now.truncatedTo(ChronoUnit.SECONDS);
    long sequence = Math.max(previous == null ? 0 : previous.sequence + 1, issued.getEpochSecond());
    RevocationList unsigned = new RevocationList(1, sequence, issued, root.id().value(), List.copyOf(all), null);
    return new RevocationList(1, sequence, issued, root.id().value(), List.copyOf(all),
        Base64.getEncoder().encodeToString(root.sign(unsigned.signedBytes())));
  }

  /** The revoked ids, once the root signature has been checked against {@code roots}. */
  public Set<KeyId> verifiedIds(TrustedRoots roots) {
    byte[] sig;
    try {
      sig = Base64.getDecoder().decode(signature == null ? "" : signature);
    } catch (IllegalArgumentException e) {
      sig = new byte[0];
    }
    roots.verifyRootSignature(issuer, signedBytes(), sig, "revocation list " + sequence);
    return revoked.stream().map(KeyId::new).collect(Collectors.toUnmodifiableSet());
  }

  public String toJson() {
    try {
      return JSON.writeValueAsString(this) + "\n";
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  public static RevocationList read(Path file) {
    try {
      if (Files.size(file) > 1 << 20) {
        throw new AirlockException(Kind.BAD_INPUT, file + " is too large to be a revocation list", null);
      }
      return parse(Files.readAllBytes(file), file.toString());
    } catch (java.nio.file.NoSuchFileException e) {
      throw new AirlockException(Kind.BAD_INPUT, "revocation list " + file + " does not exist",
          "pass the revoked.json written by 'airlock keys revoke'", e).with(AirlockException.FILE, file);
    } catch (IOException e) {
      throw new AirlockException(Kind.IO, "cannot read revocation list " + file + ": " + e.getClass().getSimpleName(),
          "check the file's permissions", e).with(AirlockException.FILE, file);
    }
  }

  public static RevocationList parse(byte[] bytes, String source) {
    try {
      RevocationList l = JSON.readValue(bytes, RevocationList.class);
      if (l.version != 1 || l.issuer == null || l.issued == null || l.signature == null) {
        throw new AirlockException(Kind.BAD_INPUT, source + " is not a complete airlock revocation list", null);
      }
      return l;
    } catch (IOException e) {
      String what = e instanceof com.fasterxml.jackson.core.JsonParseException ? "it is not JSON"
          : e instanceof com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException u
          ? "it has a field a revocation list does not have ('" + u.getPropertyName() + "')"
          : "it is not a JSON object with version, issuer, issued, revoked and signature";
      throw new AirlockException(Kind.BAD_INPUT, source + " is not an airlock revocation list: " + what,
          "pass the revoked.json written by 'airlock keys revoke', or a bundle that ships one", e);
    }
  }
}
