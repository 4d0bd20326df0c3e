package dev.airlock.bundle.spec;

import dev.airlock.bundle.spec.BundleSpec.ComponentSpec;
import dev.airlock.bundle.spec.BundleSpec.Requirements;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.oci.ImageReference;
import dev.airlock.oci.Platform;
import dev.airlock.version.SemVer;
import dev.airlock.version.VersionRange;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Reads {@code bundle.yaml}. Every error names the file, the field and the line; unknown fields are errors, so a
 * typo never silently drops a setting.
 */
public final class SpecParser {

  private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
  private static final Pattern CPU = Pattern.compile("\\d+(\\.\\d+)?m?");
  private static final Pattern MEMORY = Pattern.compile("\\d+(\\.\\d+)?(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P|E)?");
  private static final long MAX_SIZE = 1 << 20;

  private final Path file;
  private final Path dir;

  private SpecParser(Path file) {
    this.file = file;
    this.dir = file.toAbsolutePath().getParent();
  }

  public static BundleSpec parse(Path file) {
    String text;
    try {
      if (Files.size(file) > MAX_SIZE) {
        throw new AirlockException(Kind.BAD_INPUT, file + " is larger than 1 MiB; that is not a bundle spec", null);
      }
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new AirlockException(Kind.BAD_INPUT, "cannot read bundle spec " + file + ": " + e.getMessage(),
          "pass the spec with -f bundle.yaml", e);
    }
    return new SpecParser(file).parseText(text);
  }

  private BundleSpec parseText(String text) {
    Node root;
    try {
      LoaderOptions options = new LoaderOptions();
      options.setMaxAliasesForCollections(20);
      options.setAllowDuplicateKeys(false);
      root = new Yaml(new SafeConstructor(options)).compose(new StringReader(text));
    } catch (MarkedYAMLException e) {
      int line = e.getProblemMark() == null ? 0 : e.getProblemMark().getLine() + 1;
      throw new AirlockException(Kind.BAD_INPUT, file + ":" + line + ": not valid YAML: " + e.getProblem(), null, e);
    } catch (RuntimeException e) {
      throw new AirlockException(Kind.BAD_INPUT, file + ": not valid YAML: " + e.getMessage(), null, e);
    }
    if (root == null) {
      throw new AirlockException(Kind.BAD_INPUT, file + " is empty", "see docs/bundle.md for the spec format");
    }
    Fields top = new Fields(root, "");
    top.allow("apiVersion", "kind", "name", "version", "description", "upgradesFrom", "kubernetes", "requirements",
        "mirrors", "platforms", "components", "images", "revocations", "server", "imagePolicy");
    String apiVersion = top.requiredString("apiVersion");
    if (!apiVersion.equals(BundleSpec.API_VERSION)) {
      throw error(top.node("apiVersion"), "apiVersion", "is '" + apiVersion + "'; this airlock reads "
          + BundleSpec.API_VERSION);
    }
    String kind = top.requiredString("kind");
    if (!kind.equals(BundleSpec.KIND)) {
      throw error(top.node("kind"), "kind", "is '" + kind + "', expected " + BundleSpec.KIND);
    }
    String name = top.requiredString("name");
    checkLabel(top.node("name"), "name", name);
    SemVer version = top.parsed("version", true, SemVer::parse).orElseThrow();
    String description = top.optionalString("description").orElse("");
    Optional<VersionRange> upgradesFrom = top.parsed("upgradesFrom", false, VersionRange::parse);
    Optional<VersionRange> kubernetes = top.parsed("kubernetes", false, VersionRange::parse);

    Requirements requirements = Requirements.none();
    if (top.has("requirements")) {
      Fields r = top.child("requirements");
      r.allow("cpu", "memory");
      Optional<String> cpu = r.optionalString("cpu");
      Optional<String> memory = r.optionalString("memory");
      cpu.filter(c -> !CPU.matcher(c).matches()).ifPresent(c -> {
        throw error(r.node("cpu"), "requirements.cpu", "'" + c + "' is not a CPU quantity (e.g. 4 or 500m)");
      });
      memory.filter(m -> !MEMORY.matcher(m).matches()).ifPresent(m -> {
        throw error(r.node("memory"), "requirements.memory", "'" + m + "' is not a memory quantity (e.g. 8Gi)");
      });
      requirements = new Requirements(cpu, memory);
    }

    List<Mirror> mirrors = new ArrayList<>();
    if (top.has("mirrors")) {
      Fields m = top.child("mirrors");
      for (Map.Entry<String, Node> e : m.entries().entrySet()) {
        String target = scalar(e.getValue(), "mirrors." + e.getKey());
        mirrors.add(wrap(e.getValue(), "mirrors." + e.getKey(), () -> Mirror.of(e.getKey(), target)));
      }
    }

    List<Platform> platforms = new ArrayList<>();
    for (Node p : top.list("platforms")) {
      platforms.add(wrap(p, "platforms", () -> Platform.parse(scalar(p, "platforms"))));
    }

    List<ImageReference> images = images(top.list("images"), "images");

    List<ComponentSpec> components = new ArrayList<>();
    Set<String> names = new HashSet<>();
    List<Node> componentNodes = top.list("components");
    if (componentNodes.isEmpty()) {
      throw error(root, "components", "is missing or empty; a bundle installs at least one component");
    }
    for (int i = 0; i < componentNodes.size(); i++) {
      ComponentSpec c = component(componentNodes.get(i), "components[" + i + "]");
      if (!names.add(c.name())) {
        throw error(componentNodes.get(i), "components[" + i + "].name", "'" + c.name() + "' is used twice");
      }
      components.add(c);
    }
    for (int i = 0; i < components.size(); i++) {
      for (String dep : components.get(i).dependsOn()) {
        if (!names.contains(dep)) {
          throw error(componentNodes.get(i), "components[" + i + "].dependsOn", "names '" + dep
              + "', which is not a component of this bundle");
        }
      }
    }
    checkCycles(components, componentNodes);
    Optional<Path> revocations = top.optionalString("revocations").map(this::resolve);
    revocations.filter(p -> !Files.isRegularFile(p)).ifPresent(p -> {
      throw error(top.node("revocations"), "revocations", p + " does not exist");
    });
    Optional<BundleSpec.ServerSpec> server = Optional.empty();
    if (top.has("server")) {
      Fields sv = top.child("server");
      sv.allow("baseImage", "platform", "namespace");
      String base = sv.requiredString("baseImage");
      ImageReference baseImage = wrap(sv.node("baseImage"), "server.baseImage", () -> ImageReference.parse(base));
      Platform platform = sv.has("platform")
          ? wrap(sv.node("platform"), "server.platform", () -> Platform.parse(sv.requiredString("platform")))
          : Platform.parse("linux/amd64");
      String ns = sv.optionalString("namespace").orElse(null);
      if (ns != null) {
        checkLabel(sv.node("namespace"), "server.namespace", ns);
      }
      if (names.contains(BundleSpec.ServerSpec.COMPONENT)) {
        throw error(sv.node("baseImage"), "server", "adds the component '" + BundleSpec.ServerSpec.COMPONENT
            + "', and a component of that name exists already; rename that component");
      }
      server = Optional.of(new BundleSpec.ServerSpec(baseImage, platform, ns));
    }
    ImagePolicy imagePolicy = top.has("imagePolicy") ? imagePolicy(top.child("imagePolicy")) : ImagePolicy.off();
    return new BundleSpec(name, version, description, upgradesFrom, kubernetes, requirements, mirrors, platforms,
        components, images, revocations, file, server, imagePolicy);
  }

  private ImagePolicy imagePolicy(Fields p) {
    p.allow("signatures", "keys", "identities");
    String mode = p.requiredString("signatures");
    ImagePolicy.Signatures signatures = switch (mode) {
      case "required" -> ImagePolicy.Signatures.REQUIRED;
      case "optional" -> ImagePolicy.Signatures.OPTIONAL;
      case "off" -> ImagePolicy.Signatures.OFF;
      default -> throw error(p.node("signatures"), "imagePolicy.signatures", "is '" + mode
          + "'; it must be required, optional or off");
    };
    List<Path> keys = new ArrayList<>();
    for (Node k : p.list("keys")) {
      Path key = resolve(scalar(k, "imagePolicy.keys"));
      if (!Files.isRegularFile(key)) {
        throw error(k, "imagePolicy.keys", key + " does not exist");
      }
      wrap(k, "imagePolicy.keys", () -> dev.airlock.bundle.supply.CosignKey.read(key));
      keys.add(key);
    }
    if (signatures != ImagePolicy.Signatures.OFF && keys.isEmpty()) {
      throw error(p.node("signatures"), "imagePolicy.keys", "is missing or empty; signatures: " + mode
          + " needs the public keys (PEM) the images are signed with");
    }
    List<String> identities = new ArrayList<>();
    for (Node i : p.list("identities")) {
      String id = scalar(i, "imagePolicy.identities");
      if (id.isBlank() || id.contains("://") || id.contains(" ")) {
        throw error(i, "imagePolicy.identities", "'" + id + "' is not a repository pattern (e.g. "
            + "registry.example.com/acme/*); keyless (Fulcio) identities are not supported");
      }
      identities.add(id);
    }
    return new ImagePolicy(signatures, keys, identities);
  }

  private ComponentSpec component(Node node, String path) {
    Fields f = new Fields(node, path + ".");
    f.allow("name", "required", "chart", "values", "namespace", "releaseName", "dependsOn", "images");
    String name = f.requiredString("name");
    checkLabel(f.node("name"), path + ".name", name);
    boolean required = f.optionalString("required").map(v -> parseBool(f.node("required"), path + ".required", v))
        .orElse(true);
    Fields chart = f.child("chart");
    chart.allow("path", "oci", "version");
    ChartSource source;
    if (chart.has("path") == chart.has("oci")) {
      throw error(f.node("chart"), path + ".chart", "needs exactly one of 'path' (a chart directory or .tgz) or "
          + "'oci' (oci://registry/repository)");
    }
    if (chart.has("path")) {
      Path p = resolve(chart.requiredString("path"));
      if (Files.isDirectory(p)) {
        if (!Files.isRegularFile(p.resolve("Chart.yaml"))) {
          throw error(chart.node("path"), path + ".chart.path", p + " has no Chart.yaml");
        }
        source = new ChartSource.Directory(p);
      } else if (Files.isRegularFile(p) && p.getFileName().toString().endsWith(".tgz")) {
        source = new ChartSource.Archive(p);
      } else {
        throw error(chart.node("path"), path + ".chart.path", p + " is neither a chart directory nor a .tgz file");
      }
    } else {
      String oci = chart.requiredString("oci");
      if (!oci.startsWith("oci://")) {
        throw error(chart.node("oci"), path + ".chart.oci", "'" + oci + "' must start with oci://");
      }
      String version = chart.requiredString("version");
      String ref = oci.substring(6);
      int slash = ref.indexOf('/');
      if (slash <= 0) {
        throw error(chart.node("oci"), path + ".chart.oci", "'" + oci + "' needs a registry and a repository");
      }
      source = new ChartSource.Oci(ref.substring(0, slash), ref.substring(slash + 1), version);
    }
    List<Path> values = new ArrayList<>();
    for (Node v : f.list("values")) {
      Path p = resolve(scalar(v, path + ".values"));
      if (!Files.isRegularFile(p)) {
        throw error(v, path + ".values", p + " does not exist");
      }
      values.add(p);
    }
    // No namespace: the component goes where the admin installs (airlock install --namespace).
    String namespace = f.optionalString("namespace").orElse(null);
    if (namespace != null) {
      checkLabel(f.node("namespace"), path + ".namespace", namespace);
    }
    String release = f.optionalString("releaseName").orElse(name);
    checkLabel(f.has("releaseName") ? f.node("releaseName") : node, path + ".releaseName", release);
    List<String> deps = new ArrayList<>();
    for (Node d : f.list("dependsOn")) {
      deps.add(scalar(d, path + ".dependsOn"));
    }
    return new ComponentSpec(name, required, source, values, namespace, release, deps,
        images(f.list("images"), path + ".images"));
  }

  private List<ImageReference> images(List<Node> nodes, String path) {
    List<ImageReference> out = new ArrayList<>();
    for (Node n : nodes) {
      String text = scalar(n, path);
      out.add(wrap(n, path, () -> ImageReference.parse(text)));
    }
    return out;
  }

  private void checkCycles(List<ComponentSpec> components, List<Node> nodes) {
    Map<String, ComponentSpec> byName = new LinkedHashMap<>();
    components.forEach(c -> byName.put(c.name(), c));
    Map<String, Integer> state = new LinkedHashMap<>();
    for (int i = 0; i < components.size(); i++) {
      List<String> trail = new ArrayList<>();
      if (cycle(components.get(i).name(), byName, state, trail)) {
        throw error(nodes.get(i), "components[" + i + "].dependsOn", "forms a cycle: " + String.join(" -> ", trail));
      }
    }
  }

  private boolean cycle(String name, Map<String, ComponentSpec> byName, Map<String, Integer> state,
      List<String> trail) {
    Integer s = state.get(name);
    trail.add(name);
    if (s != null) {
      return s == 1;
    }
    state.put(name, 1);
    for (String dep : byName.get(name).dependsOn()) {
      if (cycle(dep, byName, state, trail)) {
        return true;
      }
    }
    state.put(name, 2);
    trail.remove(trail.size() - 1);
    return false;
  }

  private Path resolve(String p) {
    return dir.resolve(p).normalize();
  }

  private void checkLabel(Node node, String field, String value) {
    if (!DNS_LABEL.matcher(value).matches()) {
      throw error(node, field, "'" + value + "' must be a DNS label (lowercase letters, digits and '-', at most 63)");
    }
  }

  private boolean parseBool(Node node, String field, String v) {
    return switch (v) {
      case "true" -> true;
      case "false" -> false;
      default -> throw error(node, field, "'" + v + "' is not true or false");
    };
  }

  private <T> T wrap(Node node, String field, java.util.function.Supplier<T> parse) {
    try {
      return parse.get();
    } catch (AirlockException e) {
      throw new AirlockException(Kind.BAD_INPUT, file + ":" + line(node) + ": " + field + ": " + e.getMessage(),
          e.fix().orElse(null));
    }
  }

  private String scalar(Node node, String field) {
    if (!(node instanceof ScalarNode s)) {
      throw error(node, field, "must be a single value, not a " + describe(node));
    }
    return s.getValue();
  }

  private static String describe(Node node) {
    return node instanceof MappingNode ? "mapping" : node instanceof SequenceNode ? "list" : "value";
  }

  private static int line(Node node) {
    return node.getStartMark().getLine() + 1;
  }

  private AirlockException error(Node node, String field, String problem) {
    return new AirlockException(Kind.BAD_INPUT, file + ":" + line(node) + ": " + field + " " + problem,
        "see docs/bundle.md for the spec format");
  }

  /** A YAML mapping with the field path it sits at, for messages. */
  private final class Fields {
    private final Node node;
    private final String prefix;
    private final Map<String, Node> entries = new LinkedHashMap<>();
    private final Map<String, Node> keys = new LinkedHashMap<>();

    Fields(Node node, String prefix) {
      this.node = node;
      this.prefix = prefix;
      if (!(node instanceof MappingNode m)) {
        throw error(node, prefix.isEmpty() ? "the document" : prefix.substring(0, prefix.length() - 1),
            "must be a mapping, not a " + describe(node));
      }
      for (NodeTuple t : m.getValue()) {
        String key = scalar(t.getKeyNode(), prefix + "<key>");
        entries.put(key, t.getValueNode());
        keys.put(key, t.getKeyNode());
      }
    }

    void allow(String... known) {
      Set<String> ok = Set.of(known);
      for (Map.Entry<String, Node> e : keys.entrySet()) {
        if (!ok.contains(e.getKey())) {
          throw error(e.getValue(), prefix + e.getKey(), "is not a known field (known: " + String.join(", ", known)
              + ")");
        }
      }
    }

    Map<String, Node> entries() {
      return entries;
    }

    boolean has(String key) {
      return entries.containsKey(key);
    }

    Node node(String key) {
      return entries.getOrDefault(key, node);
    }

    String requiredString(String key) {
      if (!has(key)) {
        throw error(node, prefix + key, "is required");
      }
      String v = scalar(entries.get(key), prefix + key);
      if (v.isBlank()) {
        throw error(entries.get(key), prefix + key, "must not be empty");
      }
      return v;
    }

    Optional<String> optionalString(String key) {
      return has(key) ? Optional.of(scalar(entries.get(key), prefix + key)) : Optional.empty();
    }

    <T> Optional<T> parsed(String key, boolean required, Function<String, T> parser) {
      if (!has(key)) {
        if (required) {
          throw error(node, prefix + key, "is required");
        }
        return Optional.empty();
      }
      String v = scalar(entries.get(key), prefix + key);
      return Optional.of(wrap(entries.get(key), prefix + key, () -> parser.apply(v)));
    }

    Fields child(String key) {
      if (!has(key)) {
        throw error(node, prefix + key, "is required");
      }
      return new Fields(entries.get(key), prefix + key + ".");
    }

    List<Node> list(String key) {
      if (!has(key)) {
        return List.of();
      }
      Node n = entries.get(key);
      if (!(n instanceof SequenceNode s)) {
        throw error(n, prefix + key, "must be a list, not a " + describe(n));
      }
      return s.getValue();
    }
  }
}
