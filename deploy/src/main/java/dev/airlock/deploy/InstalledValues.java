package dev.airlock.deploy;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.kube.KubeTarget;
import dev.airlock.kube.Secrets;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The values an admin gave with {@code --values} (at install and at each upgrade), kept per installed bundle in the
 * Secret {@value #SECRET} of the installation's namespace, so that an upgrade without {@code --values} renders with
 * them again, as Helm's {@code --reuse-values} does. A Secret, not the installation record's ConfigMap: values may
 * hold passwords. Keyed by the bundle's digest, so a rollback to an earlier version finds that version's values.
 */
public final class InstalledValues {

  public static final String SECRET = "airlock-values";
  private static final ObjectMapper JSON = new ObjectMapper();

  private InstalledValues() {}

  /** Values per component name. */
  public static final TypeReference<Map<String, Map<String, Object>>> TYPE = new TypeReference<>() {};

  private static String key(String bundleDigest) {
    return bundleDigest.replace(':', '-') + ".json";
  }

  /** The values recorded for the installed bundle {@code bundleDigest}; empty when none were recorded. */
  public static Optional<Map<String, Map<String, Object>>> read(KubeTarget kube, String namespace,
      String bundleDigest) {
    Secret s;
    try {
      s = kube.client().secrets().inNamespace(namespace).withName(SECRET).get();
    } catch (KubernetesClientException e) {
      throw kube.failure("reading the recorded values " + namespace + "/" + SECRET, e);
    }
    Optional<String> json = Secrets.value(s, key(bundleDigest));
    if (json.isEmpty()) {
      return Optional.empty();
    }
    try {
      return Optional.of(JSON.readValue(json.get(), TYPE));
    } catch (IOException e) {
      throw new AirlockException(Kind.REMOTE, "the recorded values in " + namespace + "/" + SECRET + " cannot be "
          + "read: " + e.getMessage(), "pass every value again with --values and --reset-values", e);
    }
  }

  /**
   * Records {@code values} for {@code bundleDigest}, and forgets the values of bundles not in {@code keep} (those
   * neither installed nor kept for rollback).
   */
  public static void write(KubeTarget kube, String namespace, String bundleDigest,
      Map<String, Map<String, Object>> values, Collection<String> keep) {
    Secret s;
    try {
      s = kube.client().secrets().inNamespace(namespace).withName(SECRET).get();
    } catch (KubernetesClientException e) {
      throw kube.failure("reading the recorded values " + namespace + "/" + SECRET, e);
    }
    Map<String, String> data = new LinkedHashMap<>();
    Set<String> kept = new TreeSet<>();
    keep.forEach(d -> kept.add(key(d)));
    if (s != null && s.getData() != null) {
      for (String k : s.getData().keySet()) {
        if (kept.contains(k)) {
          Secrets.value(s, k).ifPresent(v -> data.put(k, v));
        }
      }
    }
    try {
      data.put(key(bundleDigest), JSON.writeValueAsString(values));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    Secrets.apply(kube, Secrets.opaque(namespace, SECRET, data), "recording the values in");
  }

  /**
   * {@code over} merged into a copy of {@code base}, as Helm merges values files: maps merge key by key, anything
   * else (a {@code null} too, which removes the chart's default when rendered) is replaced.
   */
  @SuppressWarnings("unchecked")
  public static Map<String, Object> merge(Map<String, Object> base, Map<String, Object> over) {
    Map<String, Object> out = new LinkedHashMap<>(base == null ? Map.of() : base);
    if (over == null) {
      return out;
    }
    for (Map.Entry<String, Object> e : over.entrySet()) {
      if (e.getValue() instanceof Map<?, ?> m && out.get(e.getKey()) instanceof Map<?, ?> t) {
        out.put(e.getKey(), merge((Map<String, Object>) t, (Map<String, Object>) m));
      } else {
        out.put(e.getKey(), e.getValue());
      }
    }
    return out;
  }

  /** Per component, {@code over} merged into {@code base}; components only one side names are kept. */
  public static Map<String, Map<String, Object>> mergeAll(Map<String, Map<String, Object>> base,
      Map<String, Map<String, Object>> over) {
    Map<String, Map<String, Object>> out = new LinkedHashMap<>();
    base.forEach((c, v) -> out.put(c, merge(v, Map.of())));
    over.forEach((c, v) -> out.put(c, merge(out.get(c), v)));
    return out;
  }

  /**
   * What changes between two sets of one component's values, one line per leaf: {@code +a.b = 1},
   * {@code -a.c}, {@code a.d: 1 → 2}. Values under keys that look secret (as the support bundle's redactor judges
   * names: password, token, api key, …) are shown as {@code (hidden)}.
   */
  public static List<String> diff(Map<String, Object> before, Map<String, Object> after) {
    Map<String, Object> a = new LinkedHashMap<>();
    Map<String, Object> b = new LinkedHashMap<>();
    flatten("", before == null ? Map.of() : before, a);
    flatten("", after == null ? Map.of() : after, b);
    List<String> out = new ArrayList<>();
    Set<String> keys = new TreeSet<>(a.keySet());
    keys.addAll(b.keySet());
    for (String k : keys) {
      boolean had = a.containsKey(k);
      boolean has = b.containsKey(k);
      if (had && !has) {
        out.add("-" + k);
      } else if (!had) {
        out.add("+" + k + " = " + show(k, b.get(k)));
      } else if (!Objects.equals(a.get(k), b.get(k))) {
        out.add(k + ": " + show(k, a.get(k)) + " → " + show(k, b.get(k)));
      }
    }
    return out;
  }

  private static String show(String path, Object v) {
    String leaf = path.substring(path.lastIndexOf('.') + 1);
    if (dev.airlock.deploy.support.Redactor.SECRET_NAME.matcher(leaf).matches()) {
      return "(hidden)";
    }
    String s;
    try {
      s = v instanceof String str ? str : JSON.writeValueAsString(v);
    } catch (IOException e) {
      s = String.valueOf(v);
    }
    return s.length() > 80 ? s.substring(0, 79) + "…" : s;
  }

  @SuppressWarnings("unchecked")
  private static void flatten(String prefix, Map<String, Object> m, Map<String, Object> out) {
    for (Map.Entry<String, Object> e : m.entrySet()) {
      String k = prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey();
      if (e.getValue() instanceof Map<?, ?> sub && !sub.isEmpty()) {
        flatten(k, (Map<String, Object>) sub, out);
      } else {
        out.put(k, e.getValue());
      }
    }
  }
}
