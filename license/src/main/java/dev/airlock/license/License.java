package dev.airlock.license;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * What a license grants. Every field is covered by the signature through {@link #signedBytes()}.
 *
 * @param id generated license id, {@code lic-} and 32 hex digits
 * @param customer who the license is for
 * @param product the product it covers (a bundle's name)
 * @param issued when it was issued
 * @param sequence orders licenses of one customer: a newer license has a higher number
 * @param expires the last day (UTC) the license is valid
 * @param graceDays days after {@code expires} during which everything keeps running but nothing new is allowed
 * @param updatesUntil the last release date (UTC) of bundles this license may install or upgrade to
 * @param seats active users allowed
 * @param clusters clusters allowed
 * @param features enabled features, sorted, unique
 * @param channel release channel, e.g. {@code stable}
 */
@JsonPropertyOrder({"id", "customer", "product", "issued", "sequence", "expires", "graceDays", "updatesUntil",
    "seats", "clusters", "features", "channel"})
public record License(String id, String customer, String product, Instant issued, Long sequence, LocalDate expires,
    Integer graceDays, LocalDate updatesUntil, Integer seats, Integer clusters, List<String> features,
    String channel) {

  static final Pattern ID = Pattern.compile("lic-[0-9a-f]{32}");
  static final Pattern LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");

  public License {
    features = features == null ? null : List.copyOf(features);
  }

  /** The {@link AirlockException#data()} key naming the license field a validation failure is about. */
  public static final String FIELD = "field";

  /** Checks every field's presence and form; the message names the field. */
  public License validated(String source) {
    require(id != null && ID.matcher(id).matches(), source, "id", "must be lic- and 32 hex digits");
    require(customer != null && !customer.isBlank() && customer.length() <= 200
        && customer.chars().noneMatch(Character::isISOControl), source, "customer",
        "must be 1 to 200 characters without control characters");
    require(product != null && LABEL.matcher(product).matches(), source, "product", "must be a DNS label");
    require(issued != null, source, "issued", "is required");
    require(sequence != null && sequence >= 1, source, "sequence", "is required and must be at least 1");
    require(expires != null, source, "expires", "is required");
    require(graceDays != null && graceDays >= 0 && graceDays <= 365, source, "graceDays",
        "is required and must be between 0 and 365");
    require(updatesUntil != null, source, "updatesUntil", "is required");
    require(seats != null && seats >= 1, source, "seats", "is required and must be at least 1");
    require(clusters != null && clusters >= 1, source, "clusters", "is required and must be at least 1");
    require(features != null, source, "features", "is required (may be empty)");
    require(features.stream().allMatch(f -> f != null && LABEL.matcher(f).matches()), source, "features",
        "must be DNS labels");
    require(new TreeSet<>(features).size() == features.size(), source, "features", "lists a feature twice");
    require(channel != null && LABEL.matcher(channel).matches(), source, "channel", "must be a DNS label");
    return this;
  }

  private static void require(boolean ok, String source, String field, String problem) {
    if (!ok) {
      throw new AirlockException(Kind.BAD_INPUT, source + ": license field '" + field + "' " + problem,
          "ask the vendor for a new license file").with(FIELD, field);
    }
  }

  /**
   * The canonical bytes a license signature covers: a tag, then one {@code name=value} line per field in a fixed
   * order, features sorted. Formatting of the file (YAML layout, key order, quoting) is not part of it; meaning is.
   */
  public byte[] signedBytes() {
    String text = "airlock-license-v1\n"
        + "id=" + id + "\n"
        + "customer=" + customer + "\n"
        + "product=" + product + "\n"
        + "issued=" + issued + "\n"
        + "sequence=" + sequence + "\n"
        + "expires=" + expires + "\n"
        + "graceDays=" + graceDays + "\n"
        + "updatesUntil=" + updatesUntil + "\n"
        + "seats=" + seats + "\n"
        + "clusters=" + clusters + "\n"
        + "features=" + String.join(",", new TreeSet<>(features)) + "\n"
        + "channel=" + channel + "\n";
    return text.getBytes(StandardCharsets.UTF_8);
  }

  public boolean hasFeature(String feature) {
    return features.contains(feature);
  }
}
