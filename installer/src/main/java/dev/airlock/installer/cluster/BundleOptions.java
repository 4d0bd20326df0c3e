package dev.airlock.installer.cluster;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import picocli.CommandLine.Option;

/** What install, preflight and upgrade read: the bundle, values overrides, checks to skip, components left out. */
public class BundleOptions {

  @Option(names = "--bundle", required = true, paramLabel = "FILE", description = "the signed bundle file")
  public Path bundle;

  @Option(names = "--values", paramLabel = "FILE", description = "values overrides: a YAML map from component name "
      + "to that chart's values, applied after the bundle's values; repeatable, later files win. Upgrades reuse "
      + "the values given before and merge these over them; --reset-values on upgrade forgets them")
  List<Path> values = new ArrayList<>();

  @Option(names = "--skip-check", paramLabel = "ID", description = "skip one preflight check by id; repeatable, "
      + "one id at a time (see docs/install.md for the ids)")
  List<String> skipChecks = new ArrayList<>();

  @Option(names = "--without", paramLabel = "COMPONENT", description = "leave out an optional component "
      + "(required: false in the bundle); repeatable. Upgrades keep leaving out what the install left out")
  List<String> without;

  public Set<String> skipChecks() {
    for (String id : skipChecks) {
      if (id.equals("all") || id.contains("*") || id.contains(",")) {
        throw new AirlockException(Kind.BAD_INPUT, "--skip-check " + id + ": checks are skipped one at a time, by id",
            "repeat --skip-check for each check you mean to skip");
      }
    }
    return new LinkedHashSet<>(skipChecks);
  }

  /** The components to leave out, or null to keep the installation's choice. */
  public Set<String> without() {
    return without == null ? null : new LinkedHashSet<>(without);
  }

  /** The overrides of every {@code --values} file, merged per component. */
  @SuppressWarnings("unchecked")
  public Map<String, Map<String, Object>> overrides() {
    Map<String, Map<String, Object>> out = new LinkedHashMap<>();
    ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
    for (Path file : values) {
      Object doc;
      try {
        doc = yaml.readValue(Files.readAllBytes(file), Object.class);
      } catch (IOException e) {
        throw new AirlockException(Kind.BAD_INPUT, "--values " + file + " is not readable YAML (" + e.getClass()
            .getSimpleName() + ")", "the file must be YAML: a map from component name to values")
            .with(AirlockException.FILE, file);
      }
      if (doc == null) {
        continue;
      }
      if (!(doc instanceof Map<?, ?> map)) {
        throw new AirlockException(Kind.BAD_INPUT, "--values " + file + " is not a map of component names",
            "e.g.\nui:\n  replicas: 2");
      }
      for (Map.Entry<?, ?> e : map.entrySet()) {
        if (!(e.getValue() instanceof Map<?, ?> v)) {
          throw new AirlockException(Kind.BAD_INPUT, "--values " + file + ": '" + e.getKey() + "' must map to "
              + "that component's values", "e.g.\n" + e.getKey() + ":\n  replicas: 2");
        }
        out.merge(String.valueOf(e.getKey()), new LinkedHashMap<>((Map<String, Object>) v),
            dev.airlock.deploy.InstalledValues::merge);
      }
    }
    return out;
  }
}
