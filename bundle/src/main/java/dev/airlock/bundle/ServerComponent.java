package dev.airlock.bundle;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.cloud.tools.jib.api.Containerizer;
import com.google.cloud.tools.jib.api.Credential;
import com.google.cloud.tools.jib.api.buildplan.ImageFormat;
import com.google.cloud.tools.jib.api.Jib;
import com.google.cloud.tools.jib.api.JibContainerBuilder;
import com.google.cloud.tools.jib.api.LogEvent;
import com.google.cloud.tools.jib.api.RegistryImage;
import com.google.cloud.tools.jib.api.TarImage;
import com.google.cloud.tools.jib.api.buildplan.AbsoluteUnixPath;
import com.google.cloud.tools.jib.api.buildplan.FileEntriesLayer;
import dev.airlock.bundle.format.Json;
import dev.airlock.bundle.spec.BundleSpec.ServerSpec;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.event.EventHandler;
import dev.airlock.oci.Credentials;
import dev.airlock.oci.Digest;
import dev.airlock.oci.ImageReference;
import dev.airlock.oci.MediaTypes;
import dev.airlock.oci.RegistryOptions;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * The airlock server as a bundle component: its image, built with Jib core from airlock's own application directory
 * (the Quarkus {@code quarkus-app} tree) on the JRE base image the spec names, and its chart, a resource of this
 * module. The image is reproducible: the same jars on the same base give the same digest, so an upgrade whose airlock
 * did not change moves nothing.
 */
final class ServerComponent {

  /** Where the application lives in the image. */
  static final String APP_DIR = "/opt/airlock";
  /** The repository the image is named by inside the bundle; installs rewrite it to the company registry. */
  static final String REPOSITORY = dev.airlock.bundle.format.BundleLayout.SERVER_IMAGE_REPOSITORY;
  private static final String CHART_RESOURCE = "server-chart/";
  private static final List<String> CHART_FILES = List.of("values.yaml", "templates/serviceaccount.yaml",
      "templates/rbac.yaml", "templates/upgrades.yaml", "templates/service.yaml", "templates/deployment.yaml");

  private ServerComponent() {}

  /** A built image: its manifest and config in memory, its layers as files in the build's work directory. */
  record Built(ImageReference ref, Digest manifestDigest, byte[] manifest, Digest configDigest, byte[] config,
      Map<Digest, Path> layers, String platform) {}

  /** The image name for this airlock version. */
  static ImageReference imageRef(String airlockVersion) {
    return ImageReference.parse(REPOSITORY + ":" + tagOf(airlockVersion));
  }

  private static String tagOf(String version) {
    String t = version.replaceAll("[^A-Za-z0-9_.-]", "-");
    return t.isEmpty() || !Character.isLetterOrDigit(t.charAt(0)) ? "v" + t : t;
  }

  /** Chart versions must be SemVer; a development build is {@code 0.0.0-dev}. */
  static String chartVersion(String airlockVersion) {
    return airlockVersion.matches("\\d+\\.\\d+\\.\\d+([-+][0-9A-Za-z.-]+)?") ? airlockVersion : "0.0.0-dev";
  }

  /** Writes the chart, its image set to {@code image}, into {@code dir}. */
  static Path writeChart(Path dir, String airlockVersion, ImageReference image) throws IOException {
    Files.createDirectories(dir.resolve("templates"));
    Files.writeString(dir.resolve("Chart.yaml"), "apiVersion: v2\nname: " + ServerSpec.COMPONENT + "\n"
        + "description: The airlock server (developer logins, credentials, audit)\ntype: application\nversion: "
        + chartVersion(airlockVersion) + "\nappVersion: \"" + airlockVersion + "\"\n", StandardCharsets.UTF_8);
    for (String f : CHART_FILES) {
      try (InputStream in = ServerComponent.class.getResourceAsStream(CHART_RESOURCE + f)) {
        if (in == null) {
          throw new IllegalStateException("resource " + CHART_RESOURCE + f + " is missing from this airlock");
        }
        String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        if (f.equals("values.yaml")) {
          text = text.replaceFirst("(?m)^image: \"\"", "image: \"" + image + "\"");
        }
        Files.writeString(dir.resolve(f), text, StandardCharsets.UTF_8);
      }
    }
    return dir;
  }

  /**
   * Builds the image from {@code appDir} on {@code base} (already mirrored) and unpacks it into {@code work}.
   *
   * @param layerCache where Jib keeps base image layers between builds
   */
  static Built buildImage(ServerSpec spec, ImageReference base, Path appDir, String airlockVersion,
      RegistryOptions registries, Path work, Path layerCache, EventHandler events) {
    checkApplication(appDir);
    ImageReference ref = imageRef(airlockVersion);
    Path tar = work.resolve("server-image.tar");
    try {
      RegistryImage from = RegistryImage.named(com.google.cloud.tools.jib.api.ImageReference.parse(base.toString()));
      Optional<Credentials> creds = registries.credentials().lookup(base.registry());
      creds.ifPresent(c -> from.addCredential(c.username(), c.password()));
      JibContainerBuilder b = Jib.from(from)
          .setPlatforms(Set.of(new com.google.cloud.tools.jib.api.buildplan.Platform(
              spec.platform().architecture(), spec.platform().os())))
          .setFormat(ImageFormat.OCI)
          .setCreationTime(Instant.EPOCH)
          .addFileEntriesLayer(layer("dependencies", appDir, p -> p.startsWith(appDir.resolve("lib"))))
          .addFileEntriesLayer(layer("application", appDir, p -> !p.startsWith(appDir.resolve("lib"))))
          .setWorkingDirectory(AbsoluteUnixPath.get(APP_DIR))
          .setUser("65532:65532")
          .addEnvironmentVariable("HOME", "/tmp")
          .setEntrypoint("java", "-XX:+UseSerialGC", "-XX:MaxRAMPercentage=70", "-jar", APP_DIR + "/quarkus-run.jar")
          .setProgramArguments("server")
          .addLabel("org.opencontainers.image.title", "airlock server")
          .addLabel("org.opencontainers.image.version", airlockVersion)
          .addLabel("org.opencontainers.image.base.name", base.toString());
      // Plain HTTP and private CAs: Jib has no CA option, so it is allowed to fall back, and the base is then
      // trusted through its digest (name it by digest: the build warns otherwise).
      boolean insecure = registries.insecureHosts().contains(base.registry()) || !registries.caFiles().isEmpty();
      Containerizer c = Containerizer.to(TarImage.at(tar).named(ref.toString()))
          .setAllowInsecureRegistries(insecure)
          .setBaseImageLayersCache(layerCache)
          .setApplicationLayersCache(work.resolve("jib-app-cache"))
          .setToolName("airlock")
          .addEventHandler(LogEvent.class, e -> {
            if (e.getLevel() == LogEvent.Level.WARN || e.getLevel() == LogEvent.Level.ERROR) {
              events.warn("server image: " + e.getMessage());
            }
          });
      b.containerize(c);
      return unpack(tar, work.resolve("server-image"), ref, spec);
    } catch (ExecutionException | com.google.cloud.tools.jib.api.RegistryException e) {
      Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
      throw new AirlockException(Kind.REMOTE, "cannot build the airlock server image on " + base + ": "
          + cause.getMessage(), "check that server.baseImage names a "
          + "JRE image for " + spec.platform() + " that this machine can pull (mirrors, --registry-ca, credentials)",
          cause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AirlockException(Kind.REMOTE, "interrupted while building the airlock server image", null, e);
    } catch (IOException | com.google.cloud.tools.jib.api.InvalidImageReferenceException
        | com.google.cloud.tools.jib.api.CacheDirectoryCreationException e) {
      throw new AirlockException(Kind.IO, "cannot build the airlock server image: " + e.getMessage(), null, e);
    }
  }

  private static void checkApplication(Path appDir) {
    if (appDir == null || !Files.isRegularFile(appDir.resolve("quarkus-run.jar"))
        || !Files.isDirectory(appDir.resolve("lib"))) {
      throw new AirlockException(Kind.BAD_INPUT, "the spec asks for the airlock server component, but airlock's "
          + "application directory (quarkus-app, with quarkus-run.jar and lib/) was not found"
          + (appDir == null ? "" : " at " + appDir), "run airlock from its distribution (the 'airlock' launcher), or "
          + "set AIRLOCK_APP_DIR to the quarkus-app directory");
    }
  }

  private static FileEntriesLayer layer(String name, Path appDir, java.util.function.Predicate<Path> which)
      throws IOException {
    FileEntriesLayer.Builder l = FileEntriesLayer.builder().setName(name);
    try (Stream<Path> files = Files.walk(appDir)) {
      for (Path f : files.filter(Files::isRegularFile).filter(which).sorted(Comparator.comparing(Path::toString))
          .toList()) {
        l.addEntry(f, AbsoluteUnixPath.get(APP_DIR).resolve(appDir.relativize(f).toString().replace('\\', '/')));
      }
    }
    return l.build();
  }

  /** Jib writes an OCI layout tar: its manifest and config are read into memory, its layers become files. */
  private static Built unpack(Path tar, Path dir, ImageReference ref, ServerSpec spec) throws IOException {
    Files.createDirectories(dir);
    Map<String, Path> blobs = new LinkedHashMap<>();
    byte[] index = null;
    try (TarArchiveInputStream in = new TarArchiveInputStream(Files.newInputStream(tar))) {
      TarArchiveEntry e;
      while ((e = in.getNextEntry()) != null) {
        if (!e.isFile()) {
          continue;
        }
        String name = e.getName();
        if (name.equals("index.json")) {
          index = in.readAllBytes();
        } else if (name.startsWith("blobs/sha256/")) {
          String hex = name.substring("blobs/sha256/".length());
          Path f = dir.resolve(hex);
          Files.copy(in, f, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
          blobs.put("sha256:" + hex, f);
        }
      }
    }
    Files.deleteIfExists(tar);
    if (index == null) {
      throw new IOException("Jib's image tar has no index.json");
    }
    JsonNode idx = Json.MAPPER.readTree(index);
    Digest manifestDigest = Digest.parse(idx.path("manifests").path(0).path("digest").asText());
    byte[] manifest = read(blobs, manifestDigest);
    JsonNode m = Json.MAPPER.readTree(manifest);
    if (!MediaTypes.OCI_MANIFEST.equals(m.path("mediaType").asText(MediaTypes.OCI_MANIFEST))) {
      throw new IOException("Jib wrote a manifest of type " + m.path("mediaType").asText());
    }
    Digest configDigest = Digest.parse(m.path("config").path("digest").asText());
    byte[] config = read(blobs, configDigest);
    Map<Digest, Path> layers = new LinkedHashMap<>();
    for (JsonNode l : m.path("layers")) {
      Digest d = Digest.parse(l.path("digest").asText());
      Path f = blobs.get(d.toString());
      if (f == null || Files.size(f) != l.path("size").asLong()) {
        throw new IOException("Jib's image tar lacks layer " + d);
      }
      layers.put(d, f);
    }
    return new Built(ref, manifestDigest, manifest, configDigest, config, layers, spec.platform().toString());
  }

  private static byte[] read(Map<String, Path> blobs, Digest d) throws IOException {
    Path f = blobs.get(d.toString());
    if (f == null) {
      throw new IOException("Jib's image tar lacks blob " + d);
    }
    byte[] bytes = Files.readAllBytes(f);
    if (!Digest.of(bytes).equals(d)) {
      throw new IOException("blob " + d + " in Jib's image tar does not match its digest");
    }
    return bytes;
  }

  /** The image's blobs in the order the bundle lists them: manifest, config, layers. */
  static List<Digest> blobOrder(Built b) {
    List<Digest> all = new ArrayList<>();
    all.add(b.manifestDigest());
    all.add(b.configDigest());
    all.addAll(b.layers().keySet());
    return all;
  }
}
