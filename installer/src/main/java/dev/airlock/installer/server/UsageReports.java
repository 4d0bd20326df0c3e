package dev.airlock.installer.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.kube.AuditLog;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Usage reports for the vendor's true-ups (docs/support.md): seats used per day, distinct users, logins by connector
 * and operations, computed from the hash-chained audit log, with the chain's head and the count of events it covers,
 * signed (ES256) by the installation's server key (the key that signs registry tokens; its certificate travels in the
 * report). {@link #verify} checks the signature and, given the audit events, that every figure follows from them and
 * that they chain up to the head the report names.
 */
public final class UsageReports {

  private static final ObjectMapper CANONICAL = new ObjectMapper()
      .configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);
  /** Actions by which a user takes a seat for the day. */
  static final Set<String> ACTIVE = Set.of("login", "kube-token", "registry-token");
  /** Actions that are operations on the installation. */
  static final Set<String> OPERATIONS = Set.of("install", "upgrade", "rollback", "uninstall");

  private UsageReports() {}

  /** The figures of {@code events} (a stretch of the chain, in order) between {@code from} and {@code to} (days, UTC). */
  public static Map<String, Object> compute(List<Map<String, Object>> events, LocalDate from, LocalDate to,
      String installation) {
    Map<String, Set<String>> perDay = new TreeMap<>();
    for (LocalDate d = from; !d.isAfter(to); d = d.plusDays(1)) {
      perDay.put(d.toString(), new TreeSet<>());
    }
    Set<String> users = new TreeSet<>();
    Map<String, Integer> logins = new TreeMap<>();
    Map<String, Integer> operations = new TreeMap<>();
    long firstSeq = -1;
    long lastSeq = -1;
    String head = null;
    int covered = 0;
    for (Map<String, Object> e : events) {
      LocalDate day = Instant.parse(String.valueOf(e.get("time"))).atZone(ZoneOffset.UTC).toLocalDate();
      if (day.isBefore(from) || day.isAfter(to)) {
        continue;
      }
      covered++;
      long seq = ((Number) e.get("seq")).longValue();
      firstSeq = firstSeq < 0 ? seq : firstSeq;
      lastSeq = seq;
      head = String.valueOf(e.get("hash"));
      String actor = String.valueOf(e.get("actor"));
      String action = String.valueOf(e.get("action"));
      boolean ok = !"refused".equals(e.get("result")) && !"denied".equals(e.get("result"))
          && !"failure".equals(e.get("result"));
      if (ACTIVE.contains(action) && ok && !actor.equals("admin") && !actor.equals("break-glass-admin")) {
        perDay.get(day.toString()).add(actor);
        users.add(actor);
      }
      if (action.equals("login") && "success".equals(e.get("result"))) {
        logins.merge(String.valueOf(e.get("target")), 1, Integer::sum);
      }
      if (OPERATIONS.contains(action)) {
        operations.merge(action + " " + e.get("result"), 1, Integer::sum);
      }
    }
    Map<String, Integer> seats = new TreeMap<>();
    perDay.forEach((d, u) -> seats.put(d, u.size()));
    Map<String, Object> chain = new LinkedHashMap<>();
    chain.put("events", covered);
    chain.put("firstSeq", firstSeq < 0 ? null : firstSeq);
    chain.put("lastSeq", lastSeq < 0 ? null : lastSeq);
    chain.put("head", head);
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("kind", "UsageReport");
    r.put("installation", installation);
    r.put("from", from.toString());
    r.put("to", to.toString());
    r.put("seatsPerDay", seats);
    r.put("peakSeats", seats.values().stream().mapToInt(Integer::intValue).max().orElse(0));
    r.put("distinctUsers", users.size());
    r.put("users", List.copyOf(users));
    r.put("loginsByConnector", logins);
    r.put("operations", operations);
    r.put("chain", chain);
    return r;
  }

  /** Where the airlock server keeps its audit log and keys: its component's namespace, else the installation's. */
  public static String serverNamespace(dev.airlock.kube.KubeTarget kube, String installation) {
    return dev.airlock.deploy.support.SupportBundle.serverNamespace(new dev.airlock.deploy.StateStore(kube,
        installation).load().orElse(null), installation);
  }

  /** The signed report of the last 30 days, as a support bundle carries it ({@code airlock/usage-report.json}). */
  public static Map<String, byte[]> forSupportBundle(dev.airlock.kube.KubeTarget kube, String installation,
      java.time.Clock clock) {
    String ns = serverNamespace(kube, installation);
    LocalDate to = clock.instant().atZone(ZoneOffset.UTC).toLocalDate();
    List<Map<String, Object>> events = new AuditLog(kube.client(), ns, clock, null).export(null);
    Map<String, Object> report = compute(events, to.minusDays(29), to, installation);
    try {
      return Map.of("airlock/usage-report.json", CANONICAL.writerWithDefaultPrettyPrinter().writeValueAsBytes(
          sign(kube.client(), ns, report)));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The report signed with the server's key in {@code namespace}: {@code {report, signature}}. */
  public static ObjectNode sign(KubernetesClient client, String namespace, Map<String, Object> report) {
    ServerKeys keys = ServerKeys.load(client, namespace);
    try {
      byte[] payload = CANONICAL.writeValueAsBytes(report);
      Signature s = Signature.getInstance("SHA256withECDSA");
      s.initSign(keys.registryKey);
      s.update(payload);
      ObjectNode out = CANONICAL.createObjectNode();
      out.set("report", CANONICAL.valueToTree(report));
      ObjectNode sig = out.putObject("signature");
      sig.put("algorithm", "SHA256withECDSA");
      sig.put("value", Base64.getEncoder().encodeToString(s.sign()));
      sig.put("certificate", keys.registryCertPem);
      sig.put("keyFingerprint", fingerprint(keys.registryCert));
      return out;
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A JSON value as text with maps in key order and numbers as written, for comparing. */
  private static String canonical(JsonNode n) {
    try {
      return CANONICAL.writeValueAsString(CANONICAL.treeToValue(n, Object.class));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  static String fingerprint(X509Certificate cert) throws GeneralSecurityException {
    return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(cert.getPublicKey()
        .getEncoded()));
  }

  /** What {@link #verify} found. */
  public record Verified(String keyFingerprint, boolean checkedAgainstEvents, List<String> differences) {}

  /**
   * Checks the signature, then — given the audit events — the chain (each event's hash and link) and every figure.
   * Fails naming the first thing that differs.
   */
  public static Verified verify(JsonNode signed, List<Map<String, Object>> events) {
    JsonNode report = signed.path("report");
    JsonNode sig = signed.path("signature");
    if (!report.isObject() || !sig.isObject()) {
      throw new AirlockException(Kind.VERIFICATION, "this is not a signed usage report (no report and signature)",
          "pass the file 'airlock usage report' wrote");
    }
    String fp;
    try {
      X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(
          new ByteArrayInputStream(sig.path("certificate").asText().getBytes(StandardCharsets.US_ASCII)));
      Signature s = Signature.getInstance("SHA256withECDSA");
      s.initVerify(cert.getPublicKey());
      s.update(CANONICAL.writeValueAsBytes(CANONICAL.treeToValue(report, Object.class)));
      if (!s.verify(Base64.getDecoder().decode(sig.path("value").asText()))) {
        throw new AirlockException(Kind.VERIFICATION, "the usage report's signature does not match its content: "
            + "it was changed after it was signed", "ask for the report as the installation's airlock wrote it");
      }
      fp = fingerprint(cert);
    } catch (IOException | GeneralSecurityException | IllegalArgumentException e) {
      throw new AirlockException(Kind.VERIFICATION, "the usage report's signature cannot be checked: "
          + e.getMessage(), "ask for the report as the installation's airlock wrote it", e);
    }
    if (events == null) {
      return new Verified(fp, false, List.of());
    }
    AuditLog.Verification chain = AuditLog.verifyEvents(events);
    if (!chain.intact()) {
      throw new AirlockException(Kind.VERIFICATION, "the audit events do not verify: " + chain.broken(), "ask for "
          + "an unedited export ('airlock audit export --output json' or the support bundle)");
    }
    Map<String, Object> again = compute(events, LocalDate.parse(report.path("from").asText()),
        LocalDate.parse(report.path("to").asText()), report.path("installation").asText(null));
    JsonNode recomputed = CANONICAL.valueToTree(again);
    List<String> differences = new ArrayList<>();
    report.fieldNames().forEachRemaining(f -> {
      String said = canonical(report.path(f));
      String given = canonical(recomputed.path(f));
      if (!said.equals(given)) {
        differences.add(f + ": the report says " + said + ", the audit events give " + given);
      }
    });
    if (!differences.isEmpty()) {
      throw new AirlockException(Kind.VERIFICATION, "the usage report does not follow from the audit events: "
          + String.join("; ", differences), "the report or the export was changed; ask for both again");
    }
    return new Verified(fp, true, List.of());
  }
}
