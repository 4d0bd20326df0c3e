package dev.airlock.deploy.support;

import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Takes secrets out of everything a support bundle collects, and counts what it took: which redactor, in which file,
 * how many times (never the value). Built-in redactors cover PEM private keys, JWTs, bearer and basic credentials,
 * airlock session credentials, cloud keys, credentials in connection strings and the values of keys whose names look
 * secret ({@code password}, {@code token}, {@code clientSecret}, {@code DB_PASSWORD=…}); admins add their own
 * patterns. {@link #redactTree} also empties the values of env vars and annotations whose names look secret, which a
 * line pattern cannot see when name and value sit on separate lines.
 */
public final class Redactor {

  /** What replaces a secret: the redactor's name, never the value. */
  static String mask(String rule) {
    return "***REDACTED:" + rule + "***";
  }

  /** A name that looks like it holds a secret. */
  public static final Pattern SECRET_NAME = Pattern.compile("(?i).*(passw|passwd|pwd|secret|token|api[_-]?key|apikey"
      + "|access[_-]?key|private[_-]?key|credential|auth[_-]?key|session[_-]?key|signing[_-]?key|cookie).*");

  /** One redactor: a pattern and the group that is the secret (0: the whole match). */
  record Rule(String name, Pattern pattern, int group) {}

  private static final List<Rule> BUILT_IN = List.of(
      new Rule("pem-private-key", Pattern.compile("-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----.*?-----END \\1PRIVATE "
          + "KEY-----", Pattern.DOTALL), 0),
      new Rule("jwt", Pattern.compile("\\beyJ[A-Za-z0-9_-]{4,}\\.[A-Za-z0-9_-]{4,}\\.[A-Za-z0-9_-]{8,}"), 0),
      new Rule("airlock-session", Pattern.compile("\\bas1\\.[0-9a-f]{24}\\.[A-Za-z0-9_-]{43}"), 0),
      new Rule("bearer", Pattern.compile("(?i)\\b(bearer\\s+)([A-Za-z0-9._~+/=-]{8,})"), 2),
      new Rule("basic-auth", Pattern.compile("(?i)\\b(basic\\s+)([A-Za-z0-9+/]{12,}={0,2})"), 2),
      new Rule("aws-access-key", Pattern.compile("\\b(AKIA|ASIA)[0-9A-Z]{16}\\b"), 0),
      new Rule("cloud-connection-key", Pattern.compile("(?i)\\b(AccountKey|SharedAccessKey|SharedAccessSignature"
          + "|sig)=([^;&\\s\"']+)"), 2),
      new Rule("url-credentials", Pattern.compile("\\b([a-zA-Z][a-zA-Z0-9+.-]*://[^:/\\s@\"']+:)([^@/\\s\"']+)@"), 2),
      new Rule("secret-value", Pattern.compile("(?i)([A-Za-z0-9_.-]*(?:passw|passwd|pwd|secret|token|api[_-]?key"
          + "|apikey|access[_-]?key|private[_-]?key|credential|auth[_-]?key|session[_-]?key|signing[_-]?key)"
          + "[A-Za-z0-9_.-]*[\"']?\\s*[:=]\\s*[\"']?)([^\\s\"',;}\\]]{2,})"), 2));

  private final List<Rule> rules;
  /** file → redactor → replacements. */
  private final Map<String, Map<String, Integer>> counts = new TreeMap<>();

  private Redactor(List<Rule> rules) {
    this.rules = List.copyOf(rules);
  }

  /** The built-in redactors. */
  public static Redactor builtIn() {
    return new Redactor(BUILT_IN);
  }

  /**
   * The built-in redactors and an admin's patterns: one Java regular expression per line ({@code #} starts a
   * comment); a pattern with a group replaces its first group, one without replaces the whole match.
   */
  public static Redactor withPatterns(Path file) {
    List<Rule> rules = new ArrayList<>(BUILT_IN);
    List<String> lines;
    try {
      lines = Files.readAllLines(file);
    } catch (IOException e) {
      throw new AirlockException(Kind.BAD_INPUT, "cannot read the redaction patterns in " + file + ": "
          + e.getMessage(), "pass a readable file to --redact");
    }
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      try {
        Pattern p = Pattern.compile(line);
        rules.add(new Rule("custom:" + file.getFileName() + ":" + (i + 1), p, p.matcher("").groupCount() > 0 ? 1
            : 0));
      } catch (PatternSyntaxException e) {
        throw new AirlockException(Kind.BAD_INPUT, file + ":" + (i + 1) + " is not a regular expression: "
            + e.getDescription(), "fix the pattern (Java syntax), or remove the line");
      }
    }
    return new Redactor(rules);
  }

  /** {@code text} as collected into {@code file}, with every secret replaced. */
  public String redact(String file, String text) {
    String out = text;
    for (Rule r : rules) {
      Matcher m = r.pattern().matcher(out);
      StringBuilder b = null;
      int n = 0;
      int last = 0;
      while (m.find()) {
        if (m.start(r.group()) < 0 || (r.group() > 0 && m.group(r.group()).startsWith("***REDACTED:"))) {
          continue;
        }
        if (b == null) {
          b = new StringBuilder(out.length());
        }
        b.append(out, last, m.start(r.group())).append(mask(r.name()));
        last = m.end(r.group());
        n++;
      }
      if (b != null) {
        b.append(out, last, out.length());
        out = b.toString();
        count(file, r.name(), n);
      }
    }
    return out;
  }

  /**
   * Empties, in an object tree read from the API (maps and lists), the value of every env var ({@code name} +
   * {@code value}) and every annotation or label whose name looks secret.
   */
  @SuppressWarnings("unchecked")
  public void redactTree(String file, Object tree) {
    if (tree instanceof Map<?, ?> map) {
      Map<String, Object> m = (Map<String, Object>) map;
      Object name = m.get("name");
      if (name instanceof String n && m.get("value") instanceof String && SECRET_NAME.matcher(n).matches()) {
        m.put("value", mask("secret-env"));
        count(file, "secret-env", 1);
      }
      for (String key : List.of("annotations", "labels")) {
        if (m.get(key) instanceof Map<?, ?> a) {
          for (Map.Entry<String, Object> e : ((Map<String, Object>) a).entrySet()) {
            if (SECRET_NAME.matcher(e.getKey()).matches() && e.getValue() instanceof String) {
              e.setValue(mask("secret-annotation"));
              count(file, "secret-annotation", 1);
            }
          }
        }
      }
      m.values().forEach(v -> redactTree(file, v));
    } else if (tree instanceof List<?> list) {
      list.forEach(v -> redactTree(file, v));
    }
  }

  private void count(String file, String rule, int n) {
    counts.computeIfAbsent(file, f -> new TreeMap<>()).merge(rule, n, Integer::sum);
  }

  /** One line of the redaction report. */
  public record Replacement(String file, String redactor, int count) {}

  /** What was replaced where, by file and redactor (never the values). */
  public List<Replacement> report() {
    List<Replacement> out = new ArrayList<>();
    counts.forEach((file, byRule) -> byRule.forEach((rule, n) -> out.add(new Replacement(file, rule, n))));
    return out;
  }

  /** The names of the redactors in use. */
  public List<String> names() {
    return rules.stream().map(Rule::name).toList();
  }
}
