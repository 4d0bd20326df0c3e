package dev.airlock.error;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The one exception family of airlock: every failure a user can cause names the problem and, where there is one,
 * the fix. The CLI prints {@link #getMessage()} and {@link #fix()} and maps {@link #kind()} to an exit code; it never
 * prints a stack trace for these. What the failure is about — which registry, which HTTP status, which resource and
 * verb, which bundle entry — travels as {@link #data()}, so callers decide on values, never on message text.
 */
public class AirlockException extends RuntimeException {

  /** What sort of failure this is; decides the CLI's exit code. */
  public enum Kind {
    /** Bad flags, a bad spec, a malformed file: the input must be changed. */
    BAD_INPUT,
    /** A signature, certificate, checksum or digest did not verify. */
    VERIFICATION,
    /** A registry, cluster or other server failed or could not be reached. */
    REMOTE,
    /** Local I/O failed (disk full, permissions). */
    IO,
    /** A license decision refused the operation. */
    LICENSE,
    /** Preflight checks failed; nothing was changed. */
    PREFLIGHT,
    /** An operation failed and everything it changed was rolled back. */
    ROLLED_BACK,
    /** An operation failed and rolling it back failed too: the platform needs attention. */
    ROLLBACK_INCOMPLETE,
    /** The user stopped the operation (SIGINT or SIGTERM); what is done is kept so that a re-run resumes. */
    CANCELLED,
    /** An identity or credential was refused: a login, a token, a session. */
    DENIED
  }

  /** Keys of {@link #data()}. */
  public static final String REGISTRY = "registry";
  public static final String STATUS = "status";
  public static final String RESOURCE = "resource";
  public static final String NAMESPACE = "namespace";
  public static final String VERB = "verb";
  public static final String ENTRY = "entry";
  public static final String FILE = "file";
  public static final String STEP = "step";
  public static final String SIGNAL = "signal";
  public static final String CHECK = "check";
  /**
   * What went wrong, as a word a caller can switch on: {@value #TLS}, {@value #PLAINTEXT},
   * {@value #CREDENTIALS_NEEDED}, {@value #CREDENTIALS_REFUSED}, {@value #FORBIDDEN}, {@value #UNREACHABLE},
   * {@value #HTTP}.
   */
  public static final String PROBLEM = "problem";
  public static final String TLS = "tls";
  public static final String PLAINTEXT = "plaintext";
  public static final String CREDENTIALS_NEEDED = "credentials-needed";
  public static final String CREDENTIALS_REFUSED = "credentials-refused";
  public static final String FORBIDDEN = "forbidden";
  public static final String UNREACHABLE = "unreachable";
  public static final String HTTP = "http";

  private final Kind kind;
  private final String fix;
  private final Map<String, String> data = new LinkedHashMap<>();

  public AirlockException(Kind kind, String message, String fix) {
    this(kind, message, fix, null);
  }

  public AirlockException(Kind kind, String message, String fix, Throwable cause) {
    super(message, cause);
    this.kind = kind;
    this.fix = fix;
    if (cause instanceof AirlockException a) {
      data.putAll(a.data);
    }
  }

  public Kind kind() {
    return kind;
  }

  /** What the user can do about it, if anything. */
  public Optional<String> fix() {
    return Optional.ofNullable(fix);
  }

  /** Adds one fact about the failure ({@link #REGISTRY}, {@link #STATUS}, ...); returns this exception. */
  public AirlockException with(String key, Object value) {
    if (value != null) {
      data.put(key, String.valueOf(value));
    }
    return this;
  }

  /** The facts about the failure, by key. */
  public Map<String, String> data() {
    return Collections.unmodifiableMap(data);
  }

  /** One fact, if present. */
  public Optional<String> get(String key) {
    return Optional.ofNullable(data.get(key));
  }
}
