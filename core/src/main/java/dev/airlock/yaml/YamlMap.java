package dev.airlock.yaml;

import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
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
 * A YAML mapping read for a versioned config file, with the field path and line of every value, so each error names
 * the file, the line and the field ({@code sso.yaml:12: connectors[1].issuer is required}). Unknown fields are
 * refused by {@link #allow}, never ignored. Safe loading only: no tags, few aliases, no duplicate keys.
 */
public final class YamlMap {

  private static final long MAX_SIZE = 1 << 20;

  private final String source;
  private final String docs;
  private final Node node;
  private final String path;
  private final Map<String, Node> entries = new LinkedHashMap<>();
  private final Map<String, Node> keys = new LinkedHashMap<>();

  private YamlMap(String source, String docs, Node node, String path) {
    this.source = source;
    this.docs = docs;
    this.node = node;
    this.path = path;
    if (!(node instanceof MappingNode m)) {
      throw error(node, path.isEmpty() ? "the document" : path.substring(0, path.length() - 1), "must be a mapping, "
          + "not a " + describe(node));
    }
    for (NodeTuple t : m.getValue()) {
      String key = scalar(t.getKeyNode(), path + "<key>");
      entries.put(key, t.getValueNode());
      keys.put(key, t.getKeyNode());
    }
  }

  /**
   * Reads {@code file} (at most 1 MiB).
   *
   * @param docs where the format is documented, for the fix of every error
   */
  public static YamlMap read(Path file, String docs) {
    String text;
    try {
      if (Files.size(file) > MAX_SIZE) {
        throw new AirlockException(Kind.BAD_INPUT, file + " is larger than 1 MiB", "see " + docs)
            .with(AirlockException.FILE, file);
      }
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (java.nio.file.NoSuchFileException e) {
      throw new AirlockException(Kind.BAD_INPUT, file + " does not exist", "check the path", e)
          .with(AirlockException.FILE, file);
    } catch (IOException e) {
      throw new AirlockException(Kind.IO, "cannot read " + file + ": " + e.getMessage(), null, e)
          .with(AirlockException.FILE, file);
    }
    return parse(file.toString(), text, docs);
  }

  /** Parses {@code text}, naming it {@code source} in errors. */
  public static YamlMap parse(String source, String text, String docs) {
    Node root;
    try {
      LoaderOptions options = new LoaderOptions();
      options.setMaxAliasesForCollections(20);
      options.setAllowDuplicateKeys(false);
      root = new Yaml(new SafeConstructor(options)).compose(new StringReader(text));
    } catch (MarkedYAMLException e) {
      int line = e.getProblemMark() == null ? 0 : e.getProblemMark().getLine() + 1;
      throw new AirlockException(Kind.BAD_INPUT, source + ":" + line + ": not valid YAML: " + e.getProblem(),
          "see " + docs, e);
    } catch (RuntimeException e) {
      throw new AirlockException(Kind.BAD_INPUT, source + ": not valid YAML", "see " + docs, e);
    }
    if (root == null) {
      throw new AirlockException(Kind.BAD_INPUT, source + " is empty", "see " + docs);
    }
    return new YamlMap(source, docs, root, "");
  }

  /** Refuses fields other than {@code known}. */
  public YamlMap allow(String... known) {
    Set<String> ok = new java.util.HashSet<>(List.of(known));
    for (Map.Entry<String, Node> e : keys.entrySet()) {
      if (!ok.contains(e.getKey())) {
        throw error(e.getValue(), path + e.getKey(), "is not a known field (known: " + String.join(", ", known) + ")");
      }
    }
    return this;
  }

  public boolean has(String key) {
    return entries.containsKey(key);
  }

  /** The keys of this mapping, in file order. */
  public List<String> keys() {
    return List.copyOf(entries.keySet());
  }

  /** Whether {@code key} holds a mapping (false when absent). */
  public boolean isMap(String key) {
    return entries.get(key) instanceof MappingNode;
  }

  /** The line of {@code key}'s value (of this mapping when absent). */
  public int line(String key) {
    return line(entries.getOrDefault(key, node));
  }

  public String requiredString(String key) {
    if (!has(key)) {
      throw error(node, path + key, "is required");
    }
    String v = scalar(entries.get(key), path + key);
    if (v.isBlank()) {
      throw error(entries.get(key), path + key, "must not be empty");
    }
    return v;
  }

  public Optional<String> string(String key) {
    return has(key) ? Optional.of(scalar(entries.get(key), path + key)) : Optional.empty();
  }

  public Optional<Boolean> bool(String key) {
    return string(key).map(v -> switch (v) {
      case "true" -> true;
      case "false" -> false;
      default -> throw error(entries.get(key), path + key, "must be true or false, not '" + v + "'");
    });
  }

  public Optional<Long> number(String key) {
    return string(key).map(v -> {
      try {
        return Long.parseLong(v);
      } catch (NumberFormatException e) {
        throw error(entries.get(key), path + key, "must be a whole number, not '" + v + "'");
      }
    });
  }

  public YamlMap map(String key) {
    if (!has(key)) {
      throw error(node, path + key, "is required");
    }
    return new YamlMap(source, docs, entries.get(key), path + key + ".");
  }

  public Optional<YamlMap> optionalMap(String key) {
    return has(key) ? Optional.of(map(key)) : Optional.empty();
  }

  /** The list under {@code key}'s items as mappings (empty when absent). */
  public List<YamlMap> maps(String key) {
    List<YamlMap> out = new ArrayList<>();
    List<Node> items = items(key);
    for (int i = 0; i < items.size(); i++) {
      out.add(new YamlMap(source, docs, items.get(i), path + key + "[" + i + "]."));
    }
    return out;
  }

  /** The list under {@code key} as strings (empty when absent); a single value is a list of one. */
  public List<String> strings(String key) {
    if (has(key) && entries.get(key) instanceof ScalarNode s) {
      return List.of(s.getValue());
    }
    List<String> out = new ArrayList<>();
    List<Node> items = items(key);
    for (int i = 0; i < items.size(); i++) {
      out.add(scalar(items.get(i), path + key + "[" + i + "]"));
    }
    return out;
  }

  private List<Node> items(String key) {
    if (!has(key)) {
      return List.of();
    }
    Node n = entries.get(key);
    if (!(n instanceof SequenceNode s)) {
      throw error(n, path + key, "must be a list, not a " + describe(n));
    }
    return s.getValue();
  }

  /** This mapping's path prefix, e.g. {@code connectors[1].}. */
  public String path() {
    return path;
  }

  /** An error about {@code key} of this mapping (or the mapping itself when absent). */
  public AirlockException error(String key, String problem) {
    return error(entries.getOrDefault(key, node), path + key, problem);
  }

  private AirlockException error(Node at, String field, String problem) {
    return new AirlockException(Kind.BAD_INPUT, source + ":" + line(at) + ": " + field + " " + problem,
        "see " + docs).with(AirlockException.FILE, source);
  }

  private String scalar(Node n, String field) {
    if (!(n instanceof ScalarNode s)) {
      throw error(n, field, "must be a single value, not a " + describe(n));
    }
    return s.getValue();
  }

  private static String describe(Node n) {
    return n instanceof MappingNode ? "mapping" : n instanceof SequenceNode ? "list" : "value";
  }

  private static int line(Node n) {
    return n.getStartMark().getLine() + 1;
  }
}
