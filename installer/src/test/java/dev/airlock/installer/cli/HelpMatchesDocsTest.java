package dev.airlock.installer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.airlock.installer.AirlockCommand;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Every command's flags, as {@code --help} shows them, are the flags {@code docs/reference.md} documents for it —
 * no more, no fewer — and every command has its section. A new flag without docs, or docs for a flag that is gone,
 * fails here. ({@link #main} prints a fresh reference page to start from.)
 */
class HelpMatchesDocsTest {

  static final Path REFERENCE = Path.of(System.getProperty("airlock.repo.root", ".."), "docs", "reference.md");
  static final Set<String> STANDARD = Set.of("--help", "--version");
  static final Pattern SECTION = Pattern.compile("^## `(airlock[a-z -]*)`\\s*$", Pattern.MULTILINE);
  static final Pattern FLAG = Pattern.compile("^\\| `(--[a-z0-9-]+)", Pattern.MULTILINE);

  /** Every command, by qualified name, with its long flags. */
  static Map<String, Set<String>> commands() {
    Map<String, Set<String>> out = new LinkedHashMap<>();
    walk(AirlockCommand.commandLine(CommandLine.defaultFactory(), null), out);
    return out;
  }

  private static void walk(CommandLine cl, Map<String, Set<String>> out) {
    CommandSpec spec = cl.getCommandSpec();
    if (cl.getSubcommands().isEmpty() || spec.userObject() instanceof java.util.concurrent.Callable<?>) {
      Set<String> flags = new TreeSet<>();
      for (OptionSpec o : spec.options()) {
        if (!STANDARD.contains(o.longestName())) {
          flags.add(o.longestName());
        }
      }
      out.put(spec.qualifiedName(), flags);
    }
    cl.getSubcommands().values().stream().distinct().forEach(sub -> walk(sub, out));
  }

  /** What docs/reference.md lists, by command. */
  static Map<String, Set<String>> documented() throws IOException {
    String text = Files.readString(REFERENCE);
    Map<String, Set<String>> out = new LinkedHashMap<>();
    Matcher m = SECTION.matcher(text);
    List<int[]> spans = new ArrayList<>();
    List<String> names = new ArrayList<>();
    while (m.find()) {
      names.add(m.group(1).strip());
      spans.add(new int[] {m.end(), text.length()});
      if (spans.size() > 1) {
        spans.get(spans.size() - 2)[1] = m.start();
      }
    }
    for (int i = 0; i < names.size(); i++) {
      Set<String> flags = new TreeSet<>();
      Matcher f = FLAG.matcher(text.substring(spans.get(i)[0], spans.get(i)[1]));
      while (f.find()) {
        flags.add(f.group(1));
      }
      out.put(names.get(i), flags);
    }
    return out;
  }

  @Test
  void everyCommandsFlags_areTheOnesDocsReferenceDocuments() throws IOException {
    Map<String, Set<String>> code = commands();
    Map<String, Set<String>> docs = documented();
    assertThat(docs.keySet()).as("commands documented in docs/reference.md").containsExactlyInAnyOrderElementsOf(
        code.keySet());
    for (Map.Entry<String, Set<String>> e : code.entrySet()) {
      assertThat(docs.get(e.getKey())).as("flags of '" + e.getKey() + "' in docs/reference.md vs --help")
          .containsExactlyInAnyOrderElementsOf(e.getValue());
    }
  }

  /** Prints a reference page from the commands themselves: a start for docs/reference.md. */
  public static void main(String[] args) {
    CommandLine root = new CommandLine(new AirlockCommand());
    StringBuilder sb = new StringBuilder();
    print(root, sb);
    System.out.print(sb);
  }

  private static void print(CommandLine cl, StringBuilder sb) {
    CommandSpec spec = cl.getCommandSpec();
    if (cl.getSubcommands().isEmpty() || spec.userObject() instanceof java.util.concurrent.Callable<?>) {
      sb.append("## `").append(spec.qualifiedName()).append("`\n\n");
      sb.append(String.join(" ", spec.usageMessage().description()).strip()).append("\n\n");
      List<OptionSpec> opts = spec.options().stream().filter(o -> !STANDARD.contains(o.longestName())).toList();
      if (!opts.isEmpty()) {
        sb.append("| flag | meaning |\n|---|---|\n");
        for (OptionSpec o : opts) {
          String label = o.typeInfo().isBoolean() ? "" : " " + o.paramLabel();
          String names = String.join(", ", java.util.Arrays.stream(o.names()).sorted((a, b) -> b.length() - a.length())
              .toList());
          String desc = String.join(" ", o.description()).replace("${DEFAULT-VALUE}", String.valueOf(
              o.defaultValue())).replace("|", "\\|");
          sb.append("| `").append(names.replace(", ", "`, `")).append(label.isEmpty() ? "" : "` `" + label.strip())
              .append("` | ").append(desc).append(" |\n");
        }
        sb.append('\n');
      }
    }
    cl.getSubcommands().values().stream().distinct().forEach(sub -> print(sub, sb));
  }
}
