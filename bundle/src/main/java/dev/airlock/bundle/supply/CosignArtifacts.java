package dev.airlock.bundle.supply;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.oci.Digest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Cosign's signatures and attestations as they sit in a registry, and their offline check. Formats as cosign
 * publishes them: a signature is the manifest tagged {@code sha256-<hex>.sig} in the image's repository, each layer a
 * simple-signing payload ({@value #SIMPLE_SIGNING}) whose signature is the base64 annotation {@value #SIGNATURE_ANNOTATION};
 * an attestation is the manifest tagged {@code sha256-<hex>.att}, each layer a DSSE envelope ({@value #DSSE}) over an
 * in-toto statement whose subject is the image. Everything read is bounded, and any malformed part is a refusal
 * naming the image, never an exception from a parser.
 */
public final class CosignArtifacts {

  public static final String SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json";
  public static final String DSSE = "application/vnd.dsse.envelope.v1+json";
  public static final String SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature";
  public static final String PAYLOAD_TYPE = "cosign container image signature";
  public static final String IN_TOTO = "application/vnd.in-toto+json";
  /** Limits: a signature manifest, its layer count, a layer (attestations can carry an SBOM), a signature. */
  public static final int MAX_MANIFEST = 256 * 1024;
  public static final int MAX_LAYERS = 64;
  public static final long MAX_LAYER = 16L << 20;
  public static final int MAX_SIGNATURE_B64 = 8 * 1024;
  private static final ObjectMapper JSON = new ObjectMapper();

  private CosignArtifacts() {}

  /** {@code sig} or {@code att}. */
  public enum Artifact {
    SIGNATURE("sig"), ATTESTATION("att");

    private final String suffix;

    Artifact(String suffix) {
      this.suffix = suffix;
    }

    public String suffix() {
      return suffix;
    }

    public String tagFor(Digest image) {
      return "sha256-" + image.hex() + "." + suffix;
    }

    public String word() {
      return this == SIGNATURE ? "signature" : "attestation";
    }
  }

  /** Reads a blob of the artifact by digest; the checker verifies digest and size itself. */
  @FunctionalInterface
  public interface Blobs {
    byte[] read(Digest digest, long size);
  }

  /**
   * What the check found.
   *
   * @param blobs the artifact's config and layers, to carry with the manifest
   * @param keys fingerprints of the keys that verified at least one of its layers
   * @param problems why each other layer did not verify, for messages
   */
  public record Checked(List<Digest> blobs, List<String> keys, List<String> problems) {
    public Checked {
      blobs = List.copyOf(blobs);
      keys = List.copyOf(keys);
      problems = List.copyOf(problems);
    }

    public boolean verified() {
      return !keys.isEmpty();
    }
  }

  /**
   * Checks a signature or attestation manifest of {@code image} (digest {@code imageDigest}) against {@code keys}.
   * Structural damage (not JSON, too large, a blob whose bytes are not its digest) throws; a layer that simply does
   * not verify is listed in {@link Checked#problems()}.
   */
  public static Checked check(Artifact kind, String image, Digest imageDigest, byte[] manifest, Blobs blobs,
      List<CosignKey> keys, List<String> identities) {
    String what = kind.word() + " " + kind.tagFor(imageDigest) + " of image " + image;
    if (manifest.length > MAX_MANIFEST) {
      throw refused(what, "its manifest is " + manifest.length + " bytes, over the limit of " + MAX_MANIFEST);
    }
    JsonNode m = json(manifest, what, "its manifest");
    JsonNode layers = m.path("layers");
    if (!layers.isArray() || layers.isEmpty()) {
      throw refused(what, "its manifest has no layers");
    }
    if (layers.size() > MAX_LAYERS) {
      throw refused(what, "its manifest has " + layers.size() + " layers, over the limit of " + MAX_LAYERS);
    }
    List<Digest> all = new ArrayList<>();
    JsonNode config = m.path("config");
    if (config.isObject()) {
      Digest d = digest(config, what);
      read(blobs, d, size(config, what), what);
      all.add(d);
    }
    Set<String> verifiedBy = new LinkedHashSet<>();
    List<String> problems = new ArrayList<>();
    int n = 0;
    for (JsonNode layer : layers) {
      n++;
      Digest d = digest(layer, what);
      byte[] bytes = read(blobs, d, size(layer, what), what);
      all.add(d);
      String problem;
      List<String> by = new ArrayList<>();
      if (kind == Artifact.SIGNATURE) {
        problem = checkSignature(layer, bytes, imageDigest, keys, identities, by);
      } else {
        problem = checkAttestation(layer, bytes, imageDigest, keys, by);
      }
      if (problem != null) {
        problems.add(kind.word() + " " + n + " (layer " + d.shortHex() + "): " + problem);
      }
      verifiedBy.addAll(by);
    }
    return new Checked(all, List.copyOf(verifiedBy), problems);
  }

  private static String checkSignature(JsonNode layer, byte[] payload, Digest imageDigest, List<CosignKey> keys,
      List<String> identities, List<String> by) {
    if (!SIMPLE_SIGNING.equals(layer.path("mediaType").asText())) {
      return "its media type is '" + layer.path("mediaType").asText() + "', not " + SIMPLE_SIGNING;
    }
    String b64 = layer.path("annotations").path(SIGNATURE_ANNOTATION).asText("");
    if (b64.isEmpty()) {
      return "it has no " + SIGNATURE_ANNOTATION + " annotation";
    }
    if (b64.length() > MAX_SIGNATURE_B64) {
      return "its signature annotation is " + b64.length() + " characters, over the limit of " + MAX_SIGNATURE_B64;
    }
    byte[] signature;
    try {
      signature = Base64.getDecoder().decode(b64);
    } catch (IllegalArgumentException e) {
      return "its signature annotation is not base64";
    }
    // The signature first: nothing of an unsigned payload is believed, not even what it says it signs.
    List<CosignKey> good = keys.stream().filter(k -> k.verifies(payload, signature)).toList();
    if (good.isEmpty()) {
      return "its signature does not verify with " + describe(keys);
    }
    JsonNode p;
    try {
      p = JSON.readTree(payload);
    } catch (IOException e) {
      return "its signed payload is not JSON";
    }
    JsonNode critical = p.path("critical");
    if (!PAYLOAD_TYPE.equals(critical.path("type").asText())) {
      return "its signed payload's critical.type is '" + critical.path("type").asText() + "', not '" + PAYLOAD_TYPE
          + "'";
    }
    String signed = critical.path("image").path("docker-manifest-digest").asText("");
    if (!signed.equals(imageDigest.toString())) {
      return "it signs " + (signed.isEmpty() ? "no digest" : signed) + ", not the image's digest " + imageDigest
          + " (by " + describe(good) + ")";
    }
    String reference = critical.path("identity").path("docker-reference").asText("");
    if (!identities.isEmpty() && identities.stream().noneMatch(i -> matches(i, reference))) {
      return "it was made for '" + reference + "', which matches none of imagePolicy.identities "
          + identities;
    }
    good.forEach(k -> by.add(k.fingerprint()));
    return null;
  }

  private static String checkAttestation(JsonNode layer, byte[] envelope, Digest imageDigest, List<CosignKey> keys,
      List<String> by) {
    if (!DSSE.equals(layer.path("mediaType").asText())) {
      return "its media type is '" + layer.path("mediaType").asText() + "', not " + DSSE;
    }
    JsonNode e;
    try {
      e = JSON.readTree(envelope);
    } catch (IOException ex) {
      return "its DSSE envelope is not JSON";
    }
    String type = e.path("payloadType").asText("");
    byte[] body;
    try {
      body = Base64.getDecoder().decode(e.path("payload").asText(""));
    } catch (IllegalArgumentException ex) {
      return "its DSSE payload is not base64";
    }
    byte[] pae = pae(type, body);
    List<CosignKey> good = new ArrayList<>();
    for (JsonNode s : e.path("signatures")) {
      String b64 = s.path("sig").asText("");
      if (b64.length() > MAX_SIGNATURE_B64) {
        return "a DSSE signature is " + b64.length() + " characters, over the limit of " + MAX_SIGNATURE_B64;
      }
      byte[] sig;
      try {
        sig = Base64.getDecoder().decode(b64);
      } catch (IllegalArgumentException ex) {
        return "a DSSE signature is not base64";
      }
      keys.stream().filter(k -> k.verifies(pae, sig) && !good.contains(k)).forEach(good::add);
    }
    if (good.isEmpty()) {
      return "its DSSE envelope has no signature that verifies with " + describe(keys);
    }
    if (!IN_TOTO.equals(type)) {
      return "its payload type is '" + type + "', not " + IN_TOTO;
    }
    JsonNode statement;
    try {
      statement = JSON.readTree(body);
    } catch (IOException ex) {
      return "its in-toto statement is not JSON";
    }
    boolean subject = false;
    for (JsonNode s : statement.path("subject")) {
      subject |= imageDigest.hex().equals(s.path("digest").path("sha256").asText());
    }
    if (!subject) {
      return "its subject is not the image's digest " + imageDigest + " (by " + describe(good) + ")";
    }
    good.forEach(k -> by.add(k.fingerprint()));
    return null;
  }

  /** DSSE's pre-authentication encoding: {@code DSSEv1 SP len(type) SP type SP len(body) SP body}. */
  static byte[] pae(String type, byte[] body) {
    byte[] t = type.getBytes(StandardCharsets.UTF_8);
    byte[] head = ("DSSEv1 " + t.length + " " + type + " " + body.length + " ").getBytes(StandardCharsets.UTF_8);
    byte[] out = new byte[head.length + body.length];
    System.arraycopy(head, 0, out, 0, head.length);
    System.arraycopy(body, 0, out, head.length, body.length);
    return out;
  }

  /** Glob over a repository: {@code *} within a segment, {@code **} across segments; a tag or digest is ignored. */
  static boolean matches(String glob, String reference) {
    String repo = reference;
    int at = repo.indexOf('@');
    if (at >= 0) {
      repo = repo.substring(0, at);
    }
    int colon = repo.lastIndexOf(':');
    if (colon > repo.lastIndexOf('/')) {
      repo = repo.substring(0, colon);
    }
    StringBuilder re = new StringBuilder();
    for (int i = 0; i < glob.length(); i++) {
      char c = glob.charAt(i);
      if (c == '*' && i + 1 < glob.length() && glob.charAt(i + 1) == '*') {
        re.append(".*");
        i++;
      } else if (c == '*') {
        re.append("[^/]*");
      } else {
        re.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return Pattern.matches(re.toString(), repo);
  }

  public static String describe(List<CosignKey> keys) {
    if (keys.isEmpty()) {
      return "no key";
    }
    List<String> names = keys.stream().map(CosignKey::describe).toList();
    return (names.size() == 1 ? "key " : "keys ") + String.join(", ", names);
  }

  private static byte[] read(Blobs blobs, Digest d, long size, String what) {
    if (size < 0 || size > MAX_LAYER) {
      throw refused(what, "blob " + d + " is " + size + " bytes, over the limit of " + MAX_LAYER);
    }
    byte[] bytes = blobs.read(d, size);
    if (bytes.length != size || !Digest.of(bytes).equals(d)) {
      throw refused(what, "blob " + d + " is " + bytes.length + " bytes with digest " + Digest.of(bytes)
          + " (expected " + size + " bytes): truncated or altered");
    }
    return bytes;
  }

  private static Digest digest(JsonNode descriptor, String what) {
    String d = descriptor.path("digest").asText("");
    if (!Digest.isDigest(d)) {
      throw refused(what, "its manifest names a blob by '" + d + "', not a sha256 digest");
    }
    return Digest.parse(d);
  }

  private static long size(JsonNode descriptor, String what) {
    if (!descriptor.path("size").canConvertToLong()) {
      throw refused(what, "its manifest gives a blob without a size");
    }
    return descriptor.path("size").asLong();
  }

  private static JsonNode json(byte[] bytes, String what, String part) {
    try {
      JsonNode n = JSON.readTree(bytes);
      if (n == null || !n.isObject()) {
        throw refused(what, part + " is not a JSON object");
      }
      return n;
    } catch (IOException e) {
      throw refused(what, part + " is not JSON (truncated?)");
    }
  }

  static AirlockException refused(String what, String why) {
    return new AirlockException(Kind.VERIFICATION, what + " cannot be used: " + why,
        "sign the image again (cosign sign --key cosign.key IMAGE@DIGEST), or set imagePolicy.signatures: optional "
            + "to bundle images without a usable signature");
  }
}
