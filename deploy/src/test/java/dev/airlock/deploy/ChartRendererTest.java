package dev.airlock.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/** Pure rendering logic, no server: storage claims and the hooks a restore keeps. */
class ChartRendererTest {

  @SuppressWarnings("unchecked")
  static Map<String, Object> yaml(String text) {
    return (Map<String, Object>) new Yaml(new SafeConstructor(new LoaderOptions())).load(text);
  }

  @Test
  void storageClaimedWithoutAClass_isFound_inClaimsTemplatesAndEphemeralVolumes() {
    assertThat(ChartRenderer.defaultStorageClaims(yaml("""
        kind: PersistentVolumeClaim
        metadata: {name: data}
        spec: {resources: {requests: {storage: 1Gi}}}
        """))).containsExactly("PersistentVolumeClaim data");
    assertThat(ChartRenderer.defaultStorageClaims(yaml("""
        kind: PersistentVolumeClaim
        metadata: {name: data}
        spec: {storageClassName: fast}
        """))).isEmpty();
    assertThat(ChartRenderer.defaultStorageClaims(yaml("""
        kind: StatefulSet
        metadata: {name: db}
        spec:
          volumeClaimTemplates:
            - metadata: {name: a}
              spec: {accessModes: [ReadWriteOnce]}
            - metadata: {name: b}
              spec: {storageClassName: fast}
          template: {spec: {containers: []}}
        """))).containsExactly("StatefulSet db (volumeClaimTemplates a)");
    assertThat(ChartRenderer.defaultStorageClaims(yaml("""
        kind: Deployment
        metadata: {name: web}
        spec:
          template:
            spec:
              volumes:
                - name: scratch
                  ephemeral: {volumeClaimTemplate: {spec: {accessModes: [ReadWriteOnce]}}}
                - {name: tmp, emptyDir: {}}
        """))).containsExactly("Deployment web (ephemeral volume scratch)");
    assertThat(ChartRenderer.defaultStorageClaims(yaml("kind: ConfigMap\nmetadata: {name: c}\n"))).isEmpty();
  }

  @Test
  void aRestoreKeepsOnlyRollbackHooks_asUpgradeHooks() {
    String manifests = """
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: plain}
        ---
        apiVersion: batch/v1
        kind: Job
        metadata:
          name: migrate
          annotations: {helm.sh/hook: pre-upgrade}
        ---
        apiVersion: batch/v1
        kind: Job
        metadata:
          name: undo-migrate
          annotations: {helm.sh/hook: "pre-rollback,post-install"}
        """;
    String out = Releases.rollbackHooks(manifests);
    assertThat(out).contains("name: plain", "name: undo-migrate", "helm.sh/hook: pre-upgrade")
        .doesNotContain("name: migrate\n", "post-install", "pre-rollback");
    assertThat(List.of(out.split("---\n"))).filteredOn(d -> !d.isBlank()).hasSize(2);
  }
}
