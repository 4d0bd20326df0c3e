package dev.airlock.license;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.keys.SigningCertificate;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * A license file: YAML people can read, with the license and its detached signature.
 *
 * <pre>
 * apiVersion: airlock.dev/v1alpha1
 * kind: License
 * license: {id, customer, product, issued, sequence, expires, graceDays, updatesUntil, seats, clusters, features,
 *           channel}
 * signature: {algorithm: ed25519, keyId, certificate, value}
 * </pre>
 *
 * Unknown fields anywhere are refused, not ignored.
 */
@JsonPropertyOrder({"apiVersion", "kind", "license", "signature"})
public record LicenseFile(String apiVersion, String kind, License license, Signature signature) {

  public static final String API_VERSION = "airlock.dev/v1alpha1";
  public static final String KIND = "License";
  /** Larger files are refused before parsing. */
  public static final int MAX_SIZE = 64 * 1024;

  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory()
      .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
      .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES))
      .findAndRegisterModules()
      .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true)
      .configure(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES, false)
      .configure(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS, false);

  /**
   * The signature over {@link License#signedBytes()}.
   *
   * @param algorithm {@code ed25519}
   * @param keyId the signing key
   * @param certificate its certificate from the vendor root
   * @param value base64 signature
   */
  @JsonPropertyOrder({"algorithm", "keyId", "certificate", "value"})
  public record Signature(String algorithm, String keyId, SigningCertificate certificate, String value) {}

  public String toYaml() {
    try {
      return YAML.writeValueAsString(this);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  public static LicenseFile read(Path file) {
    byte[] bytes;
    try {
      if (Files.size(file) > MAX_SIZE) {
        throw new AirlockException(Kind.BAD_INPUT, file + " is " + Files.size(file) + " bytes; a license file is at "
            + "most " + MAX_SIZE, "pass the .license file the vendor sent");
      }
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new AirlockException(Kind.BAD_INPUT, "license file " + file + " does not exist", "check the path", e);
    } catch (IOException e) {
      throw new AirlockException(Kind.IO, "cannot read " + file + ": " + e.getMessage(), null, e);
    }
    return parse(bytes, file.toString());
  }

  public static LicenseFile parse(byte[] bytes, String source) {
    if (bytes.length > MAX_SIZE) {
      throw new AirlockException(Kind.BAD_INPUT, source + " is " + bytes.length + " bytes; a license file is at most "
          + MAX_SIZE, "pass the .license file the vendor sent");
    }
    LicenseFile f;
    try {
      f = YAML.readValue(bytes, LicenseFile.class);
    } catch (IOException e) {
      // Say what the file is not and what was expected; never the parser's own wording (class names, the input).
      String why = e instanceof com.fasterxml.jackson.core.JsonParseException
          ? "it is not YAML (a license file is YAML text starting with 'apiVersion: " + API_VERSION + "')"
          : e instanceof JsonProcessingException ? "it is not a YAML map with apiVersion, kind, license and signature"
          : "it cannot be read (" + e.getClass().getSimpleName() + ")";
      if (e instanceof com.fasterxml.jackson.databind.JsonMappingException m && !m.getPath().isEmpty()) {
        String path = String.join(".", m.getPath().stream().map(r -> r.getFieldName() != null ? r.getFieldName()
            : "[" + r.getIndex() + "]").toList());
        why = e instanceof com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException
            ? "unknown field '" + path + "' (unknown fields are refused, not ignored)"
            : "field '" + path + "' has a wrong value or type";
      }
      String where = e instanceof JsonProcessingException j && j.getLocation() != null
          ? ":" + j.getLocation().getLineNr() : "";
      throw new AirlockException(Kind.BAD_INPUT, source + where + " is not a valid license file: " + why,
          "pass the .license file the vendor sent, unchanged", e);
    }
    if (f == null || !API_VERSION.equals(f.apiVersion) || !KIND.equals(f.kind)) {
      throw new AirlockException(Kind.BAD_INPUT, source + " is not an " + API_VERSION + " License",
          "pass the .license file the vendor sent");
    }
    if (f.license == null || f.signature == null || f.signature.certificate() == null || f.signature.value() == null
        || f.signature.keyId() == null) {
      throw new AirlockException(Kind.BAD_INPUT, source + " lacks its license or its signature",
          "pass the .license file the vendor sent, unchanged");
    }
    f.license.validated(source);
    return f;
  }
}
