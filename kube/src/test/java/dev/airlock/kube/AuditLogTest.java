package dev.airlock.kube;

import static org.assertj.core.api.Assertions.assertThat;

import dev.airlock.testing.kube.KubeTest;
import dev.airlock.testing.kube.TestCluster;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The audit log on the API server: many writers in one process (group commit) and a second process (a replica, with
 * its own view of the last segment) append to one chain without losing or forking an event; segments roll over at
 * {@value AuditLog#SEGMENT_EVENTS} events; editing one stored event breaks the chain exactly there.
 */
@KubeTest
class AuditLogTest {

  final TestCluster cluster;
  final String ns = TestCluster.uniqueName("audit");

  AuditLogTest(TestCluster cluster) {
    this.cluster = cluster;
    cluster.client().resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build()).create();
  }

  @AfterEach
  void cleanUp() {
    cluster.deleteNamespaces(ns);
  }

  @Test
  void twoReplicasWithManyThreadsEach_writeOneUnbrokenChain() throws Exception {
    AuditLog a = new AuditLog(cluster.client(), ns, Clock.systemUTC(), null);
    AuditLog b = new AuditLog(cluster.client(), ns, Clock.systemUTC(), null);
    ExecutorService pool = Executors.newFixedThreadPool(16);
    List<Future<String>> written = new ArrayList<>();
    for (int i = 0; i < 260; i++) {
      AuditLog log = i % 2 == 0 ? a : b;
      String target = "t" + i;
      written.add(pool.submit(() -> log.record(AuditLog.Event.of("alice", "test", target, "success", null))));
    }
    for (Future<String> f : written) {
      assertThat(f.get()).contains("\"hash\"");
    }
    pool.shutdown();
    AuditLog.Verification v = a.verify();
    assertThat(v.intact()).as(String.valueOf(v.broken())).isTrue();
    assertThat(v.events()).isEqualTo(260);
    assertThat(v.segments()).isEqualTo(2);
    List<java.util.Map<String, Object>> events = a.export(null);
    java.util.Set<Object> targets = new java.util.HashSet<>();
    for (int i = 0; i < 260; i++) {
      assertThat(((Number) events.get(i).get("seq")).longValue()).isEqualTo(i + 1);
      targets.add(events.get(i).get("target"));
    }
    assertThat(targets).as("every event, once").hasSize(260);
    // The console's read: events and the check from one list, kept while no segment changes.
    AuditLog.Snapshot snap = a.read(null);
    assertThat(snap.events()).hasSize(260);
    assertThat(snap.verification().intact()).isTrue();
    assertThat(a.read(null).events()).isSameAs(snap.events());

    ConfigMap second = cluster.client().configMaps().inNamespace(ns).withName(AuditLog.PREFIX + "00000002").get();
    String text = second.getData().get("events.jsonl");
    second.getData().put("events.jsonl", text.replaceFirst("\"result\":\"success\"", "\"result\":\"failure\""));
    cluster.client().configMaps().inNamespace(ns).resource(second).update();
    AuditLog.Verification broken = a.verify();
    assertThat(broken.intact()).isFalse();
    assertThat(broken.broken()).contains("00000002").contains("event 201 ");
    // The kept read notices the edit (the segment's resourceVersion changed).
    AuditLog.Snapshot after = a.read(null);
    assertThat(after.verification().intact()).isFalse();
    assertThat(after.verification().broken()).contains("event 201 ");
  }
}
