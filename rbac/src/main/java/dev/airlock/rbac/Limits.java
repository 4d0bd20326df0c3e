package dev.airlock.rbac;

import io.fabric8.kubernetes.api.model.Quantity;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a role grants besides permissions: the longest a credential may live, and the personal namespace's
 * ResourceQuota ({@code quota}: {@code requests.cpu: "4"}, …) and LimitRange for containers ({@code limitRange}:
 * {@code default}, {@code defaultRequest}, {@code max}, {@code min}, each a map of quantities), and how many
 * extra namespaces ({@code extraNamespaces}) the user may create with {@code airlock namespace create}: named
 * {@code <personal namespace>-<suffix>}, with the personal namespace's permissions, quota and limits.
 */
public record Limits(Duration maxCredentialLifetime, Map<String, String> quota,
    Map<String, Map<String, String>> limitRange, int extraNamespaces) {

  public static final List<String> LIMIT_KINDS = List.of("default", "defaultRequest", "max", "min");
  public static final Limits NONE = new Limits(null, Map.of(), Map.of(), 0);

  public Limits {
    quota = Map.copyOf(quota);
    Map<String, Map<String, String>> copy = new TreeMap<>();
    limitRange.forEach((k, v) -> copy.put(k, Map.copyOf(v)));
    limitRange = Map.copyOf(copy);
  }

  public boolean isEmpty() {
    return maxCredentialLifetime == null && quota.isEmpty() && limitRange.isEmpty() && extraNamespaces == 0;
  }

  /**
   * The limits of a user with several roles: the shortest credential lifetime (a limit is a safety bound), and per
   * quota or limit-range entry the largest value (capacity is granted, and roles add up); {@code min} entries take
   * the smallest; the most extra namespaces.
   */
  public static Limits merge(List<Limits> all) {
    Duration life = null;
    Map<String, String> quota = new TreeMap<>();
    Map<String, Map<String, String>> range = new TreeMap<>();
    int extra = 0;
    for (Limits l : all) {
      extra = Math.max(extra, l.extraNamespaces());
      if (l.maxCredentialLifetime() != null && (life == null || l.maxCredentialLifetime().compareTo(life) < 0)) {
        life = l.maxCredentialLifetime();
      }
      l.quota().forEach((k, v) -> quota.merge(k, v, Limits::larger));
      l.limitRange().forEach((kind, values) -> {
        Map<String, String> into = range.computeIfAbsent(kind, x -> new TreeMap<>());
        values.forEach((k, v) -> into.merge(k, v, kind.equals("min") ? Limits::smaller : Limits::larger));
      });
    }
    return new Limits(life, quota, range, extra);
  }

  private static String larger(String a, String b) {
    return Quantity.getAmountInBytes(new Quantity(a)).compareTo(Quantity.getAmountInBytes(new Quantity(b))) >= 0
        ? a : b;
  }

  private static String smaller(String a, String b) {
    return larger(a, b).equals(a) ? b : a;
  }

  Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    if (maxCredentialLifetime != null) {
      m.put("maxCredentialLifetime", format(maxCredentialLifetime));
    }
    if (!quota.isEmpty()) {
      m.put("quota", new TreeMap<>(quota));
    }
    if (!limitRange.isEmpty()) {
      m.put("limitRange", new TreeMap<>(limitRange));
    }
    if (extraNamespaces > 0) {
      m.put("extraNamespaces", extraNamespaces);
    }
    return m;
  }

  static String format(Duration d) {
    return dev.airlock.text.Durations.format(d);
  }
}
