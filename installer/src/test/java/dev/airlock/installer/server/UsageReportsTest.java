package dev.airlock.installer.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.airlock.error.AirlockException;
import dev.airlock.kube.AuditLog;
import dev.airlock.testing.kube.KubeTest;
import dev.airlock.testing.kube.TestCluster;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Usage reports from a scripted set of logins in the real audit chain: the figures, the server key's signature, and
 * the vendor's check, which refuses a tampered report, a tampered export and a report whose figures do not follow.
 */
@KubeTest
class UsageReportsTest {

  final TestCluster cluster;
  final String ns = TestCluster.uniqueName("usage");
  static final ObjectMapper JSON = new ObjectMapper();

  UsageReportsTest(TestCluster cluster) {
    this.cluster = cluster;
  }

  @AfterEach
  void cleanUp() {
    cluster.deleteNamespaces(ns);
  }

  /** A clock the test moves from day to day. */
  static final class Days extends Clock {
    Instant now;

    Days(Instant start) {
      now = start;
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  @Test
  void figuresFollowFromTheChain_theSignatureHolds_andTamperingIsNamed() throws Exception {
    var client = cluster.client();
    client.resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build()).create();
    LocalDate d1 = LocalDate.of(2026, 11, 2);
    Days clock = new Days(d1.atTime(9, 0).toInstant(ZoneOffset.UTC));
    AuditLog log = new AuditLog(client, ns, clock, null);
    log.record(AuditLog.Event.of("alice", "login", "corp-oidc", "success", "10.0.0.1"));
    log.record(AuditLog.Event.of("bob", "login", "corp-saml", "success", "10.0.0.2"));
    log.record(AuditLog.Event.of("alice", "kube-token", "user-alice", "issued", "10.0.0.1"));
    log.record(AuditLog.Event.of("admin", "install", ns, "succeeded", "cli"));
    clock.now = d1.plusDays(1).atTime(10, 0).toInstant(ZoneOffset.UTC);
    log.record(AuditLog.Event.of("alice", "kube-token", "user-alice", "issued", "10.0.0.1"));
    log.record(AuditLog.Event.of("carol", "login", "corp-oidc", "refused", "10.0.0.3"));
    clock.now = d1.plusDays(3).atTime(8, 0).toInstant(ZoneOffset.UTC);
    log.record(AuditLog.Event.of("dave", "login", "corp-oidc", "success", "10.0.0.4"));
    log.record(AuditLog.Event.of("admin", "upgrade", ns, "rolled-back", "cli"));

    List<Map<String, Object>> events = log.export(null);
    Map<String, Object> report = UsageReports.compute(events, d1, d1.plusDays(2), ns);
    assertThat(report.get("seatsPerDay")).isEqualTo(Map.of("2026-11-02", 2, "2026-11-03", 1, "2026-11-04", 0));
    assertThat(report.get("peakSeats")).isEqualTo(2);
    assertThat(report.get("distinctUsers")).isEqualTo(2);
    assertThat(report.get("loginsByConnector")).isEqualTo(Map.of("corp-oidc", 1, "corp-saml", 1));
    assertThat(report.get("operations")).isEqualTo(Map.of("install succeeded", 1));
    @SuppressWarnings("unchecked")
    Map<String, Object> chain = (Map<String, Object>) report.get("chain");
    assertThat(chain.get("events")).isEqualTo(6);
    assertThat(chain.get("head")).isEqualTo(events.get(5).get("hash"));

    ObjectNode signed = UsageReports.sign(client, ns, report);
    UsageReports.Verified ok = UsageReports.verify(JSON.readTree(signed.toString()), events);
    assertThat(ok.checkedAgainstEvents()).isTrue();
    assertThat(ok.keyFingerprint()).startsWith("sha256:");

    ObjectNode tampered = signed.deepCopy();
    ((ObjectNode) tampered.path("report")).put("peakSeats", 1);
    assertThatThrownBy(() -> UsageReports.verify(tampered, events)).isInstanceOfSatisfying(AirlockException.class,
        e -> assertThat(e.getMessage()).contains("signature does not match its content"));

    List<Map<String, Object>> edited = new ArrayList<>();
    events.forEach(e -> edited.add(new LinkedHashMap<>(e)));
    edited.get(1).put("actor", "mallory");
    assertThatThrownBy(() -> UsageReports.verify(signed, edited)).isInstanceOfSatisfying(AirlockException.class,
        e -> assertThat(e.getMessage()).contains("audit events do not verify", "event 2 was changed"));

    // Signed, but not what the chain says: computed from a stretch without bob's login.
    List<Map<String, Object>> partial = new ArrayList<>(events);
    partial.remove(1);
    ObjectNode wrong = UsageReports.sign(client, ns, UsageReports.compute(partial, d1, d1.plusDays(2), ns));
    assertThatThrownBy(() -> UsageReports.verify(wrong, events)).isInstanceOfSatisfying(AirlockException.class,
        e -> assertThat(e.getMessage()).contains("does not follow from the audit events", "peakSeats: the report "
            + "says 1, the audit events give 2"));
  }
}
