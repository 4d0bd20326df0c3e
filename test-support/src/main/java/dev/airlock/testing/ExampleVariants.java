package dev.airlock.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.stream.Stream;

/**
 * Later versions of {@code examples/platform} for upgrade scenarios, written as copies with small edits:
 * <ul>
 *   <li>{@link #v2}: 1.5.0 (upgrades from 1.4.x): the controller moves to {@link ExampleImages#NEXT_ALPINE} (one
 *   changed layer), runs 2 replicas with env {@code LOG_LEVEL=info}, and gains a ConfigMap and a Service;</li>
 *   <li>{@link #v3Broken}: 1.6.0 (upgrades from 1.5.x): the controller runs 3 replicas and the UI chart gains an
 *   object of a kind no cluster serves, so its upgrade fails after the controller's succeeded;</li>
 *   <li>{@link #v3FailingHook}: like v3, but the UI chart gains a pre-upgrade hook Job that fails at once
 *   ({@code FAKE_EXIT=1}, {@code backoffLimit: 0});</li>
 *   <li>{@link #v3EndlessHook}: like v3, but the hook Job never finishes ({@code FAKE_RUN_SECONDS=forever});</li>
 *   <li>{@link #v3NeverReady}: like v3, but the controller never becomes ready ({@code FAKE_READY=false}, the
 *   stand-in kubelet's convention), and besides replicas it changes an env var and the ConfigMap, adds a
 *   Deployment and removes the Service — everything a rollback must put back;</li>
 *   <li>{@link #unfit}: 1.4.0 for Kubernetes 1.33+ needing 1000 CPUs;</li>
 *   <li>{@link #namedStorageClass}: 1.4.0 whose registry names its StorageClass.</li>
 * </ul>
 */
public final class ExampleVariants {

  private ExampleVariants() {}

  /** An unchanged copy of the example (1.4.0) in {@code into/v1}, for tests that edit its spec. */
  public static Path v1(Path example, Path into) {
    return copy(example, into.resolve("v1")).resolve("bundle.yaml");
  }

  public static Path v2(Path example, Path into) {
    Path dir = copy(example, into.resolve("v2"));
    edit(dir.resolve("bundle.yaml"), "version: 1.4.0", "version: 1.5.0");
    edit(dir.resolve("bundle.yaml"), "upgradesFrom: \">=1.2.0 <1.4.0\"", "upgradesFrom: \">=1.4.0 <1.5.0\"");
    edit(dir.resolve("charts/controller/values.yaml"), "tag: \"3.20\"", "tag: \"3.21\"");
    edit(dir.resolve("charts/controller/values.yaml"), "replicas: 1", "replicas: 2");
    edit(dir.resolve("charts/controller/templates/deployment.yaml"),
        "          command: [\"sh\", \"-c\", \"while true; do sleep 3600; done\"]",
        "          command: [\"sh\", \"-c\", \"while true; do sleep 3600; done\"]\n"
            + "          env:\n            - {name: LOG_LEVEL, value: info}");
    write(dir.resolve("charts/controller/templates/config.yaml"), """
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: {{ .Release.Name }}-config
        data:
          mode: v2
        """);
    write(dir.resolve("charts/controller/templates/service.yaml"), """
        apiVersion: v1
        kind: Service
        metadata:
          name: {{ .Release.Name }}
        spec:
          selector: {app.kubernetes.io/name: platform-controller, app.kubernetes.io/instance: {{ .Release.Name }}}
          ports: [{port: 8080, name: http}]
        """);
    return dir.resolve("bundle.yaml");
  }

  /** A copy of the example in {@code into/name}, its spec with a {@code server} section (the airlock server). */
  public static Path withServer(Path example, Path into, String name) {
    Path dir = copy(example, into.resolve(name));
    try {
      Files.writeString(dir.resolve("bundle.yaml"), "server:\n  baseImage: " + ExampleImages.JRE_BASE + "\n",
          java.nio.file.StandardOpenOption.APPEND);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return dir.resolve("bundle.yaml");
  }

  /** {@link #withServer} of {@link #v2}: version 1.5.0. */
  public static Path v2WithServer(Path example, Path into) {
    Path v2 = v2(example, into.resolve("v2-with-server-src")).getParent();
    return withServer(v2, into, "v2-with-server");
  }

  public static Path v3Broken(Path example, Path into) {
    Path dir = v3(example, into, "v3-broken");
    write(dir.resolve("charts/ui/templates/broken.yaml"), """
        apiVersion: example.com/v1
        kind: NoSuchKind
        metadata:
          name: {{ .Release.Name }}-broken
        """);
    return dir.resolve("bundle.yaml");
  }

  public static Path v3FailingHook(Path example, Path into) {
    Path dir = v3(example, into, "v3-hook");
    write(dir.resolve("charts/ui/templates/migrate.yaml"), """
        apiVersion: batch/v1
        kind: Job
        metadata:
          name: {{ .Release.Name }}-migrate
          annotations:
            helm.sh/hook: pre-upgrade
            helm.sh/hook-delete-policy: before-hook-creation
        spec:
          backoffLimit: 0
          template:
            spec:
              restartPolicy: Never
              containers:
                - name: migrate
                  image: docker.io/library/busybox:1.36
                  command: ["sh", "-c", "exit 1"]
                  env: [{name: FAKE_EXIT, value: "1"}]
        """);
    return dir.resolve("bundle.yaml");
  }

  /** Like v3, but the UI chart gains a pre-upgrade hook Job that never finishes. */
  public static Path v3EndlessHook(Path example, Path into) {
    Path dir = v3(example, into, "v3-endless-hook");
    write(dir.resolve("charts/ui/templates/migrate.yaml"), """
        apiVersion: batch/v1
        kind: Job
        metadata:
          name: {{ .Release.Name }}-migrate
          annotations:
            helm.sh/hook: pre-upgrade
            helm.sh/hook-delete-policy: before-hook-creation
        spec:
          backoffLimit: 0
          template:
            spec:
              restartPolicy: Never
              containers:
                - name: migrate
                  image: docker.io/library/busybox:1.36
                  command: ["sh", "-c", "sleep infinity"]
                  env: [{name: FAKE_RUN_SECONDS, value: forever}]
        """);
    return dir.resolve("bundle.yaml");
  }

  /** Like v3, but the controller never becomes ready, and it changes, adds and removes objects besides. */
  public static Path v3NeverReady(Path example, Path into) {
    Path dir = v3(example, into, "v3-never-ready");
    edit(dir.resolve("charts/controller/templates/deployment.yaml"),
        "            - {name: LOG_LEVEL, value: info}",
        "            - {name: LOG_LEVEL, value: debug}\n            - {name: FAKE_READY, value: \"false\"}");
    edit(dir.resolve("charts/controller/templates/config.yaml"), "mode: v2", "mode: v3");
    delete(dir.resolve("charts/controller/templates/service.yaml"));
    write(dir.resolve("charts/controller/templates/extra.yaml"), """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: {{ .Release.Name }}-extra
        spec:
          replicas: 1
          selector:
            matchLabels: {app: extra}
          template:
            metadata:
              labels: {app: extra}
            spec:
              containers:
                - name: extra
                  image: {{ include "platform.image" (dict "image" .Values.image "global" .Values.global) | quote }}
        """);
    return dir.resolve("bundle.yaml");
  }

  /** 1.4.0 that asks for Kubernetes 1.33 or later and 1000 CPUs: no test cluster fits it. */
  public static Path unfit(Path example, Path into) {
    Path dir = copy(example, into.resolve("unfit"));
    edit(dir.resolve("bundle.yaml"), "kubernetes: \">=1.27.0 <1.35.0\"", "kubernetes: \">=1.33.0\"");
    edit(dir.resolve("bundle.yaml"), "cpu: \"4\"", "cpu: \"1000\"");
    return dir.resolve("bundle.yaml");
  }

  /** 1.4.0 whose registry's volume claim names StorageClass {@code storageClass}. */
  public static Path namedStorageClass(Path example, Path into, String storageClass) {
    Path dir = copy(example, into.resolve("named-storage"));
    edit(dir.resolve("charts/registry/templates/statefulset.yaml"), "        accessModes: [ReadWriteOnce]",
        "        storageClassName: " + storageClass + "\n        accessModes: [ReadWriteOnce]");
    return dir.resolve("bundle.yaml");
  }

  private static void delete(Path file) {
    try {
      Files.delete(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Path v3(Path example, Path into, String name) {
    Path dir = copy(v2(example, into.resolve(name + "-base")).getParent(), into.resolve(name));
    edit(dir.resolve("bundle.yaml"), "version: 1.5.0", "version: 1.6.0");
    edit(dir.resolve("bundle.yaml"), "upgradesFrom: \">=1.4.0 <1.5.0\"", "upgradesFrom: \">=1.5.0 <1.6.0\"");
    edit(dir.resolve("charts/controller/values.yaml"), "replicas: 2", "replicas: 3");
    return dir;
  }

  private static Path copy(Path from, Path to) {
    try (Stream<Path> walk = Files.walk(from)) {
      for (Path p : walk.toList()) {
        Path rel = from.relativize(p);
        if (rel.startsWith("out")) {
          continue;
        }
        Path target = to.resolve(rel.toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target, StandardCopyOption.REPLACE_EXISTING);
        }
      }
      return to;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void edit(Path file, String from, String to) {
    try {
      String text = Files.readString(file);
      if (!text.contains(from)) {
        throw new IllegalStateException(file + " no longer contains '" + from + "'");
      }
      Files.writeString(file, text.replaceFirst(java.util.regex.Pattern.quote(from),
          java.util.regex.Matcher.quoteReplacement(to)));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void write(Path file, String text) {
    try {
      Files.writeString(file, text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
