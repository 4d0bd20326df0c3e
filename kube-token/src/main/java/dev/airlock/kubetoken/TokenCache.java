package dev.airlock.kubetoken;

import java.io.IOException;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Set;

/**
 * The kube-token cache: one file per server and session under {@code ~/.kube/cache/airlock/} (directory 0700, file
 * 0600, written atomically), holding the server's ExecCredential and when it stops being served. A file that is
 * not the user's own, that others may read, that names another server or session, that is damaged or expired, is
 * never used: it is ignored and written anew. A lock file beside it lets parallel kubectl calls wait for one
 * server request instead of each making their own.
 *
 * <p>The file is a few header lines, then the credential as the server sent it:
 *
 * <pre>
 * airlock-kube-token-cache 1
 * server https://airlock.corp:8443
 * session 5f3a…   (SHA-256 of the session credential, never the credential)
 * expires 1765166400000   (this machine's clock, ms: the token's lifetime as the server said it, from receipt)
 * lifetime 600000
 *
 * {"apiVersion":"client.authentication.k8s.io/v1",…}
 * </pre>
 */
public final class TokenCache {

  static final String MAGIC = "airlock-kube-token-cache 1";
  private static final Set<PosixFilePermission> PRIVATE_FILE = EnumSet.of(PosixFilePermission.OWNER_READ,
      PosixFilePermission.OWNER_WRITE);
  private static final Set<PosixFilePermission> PRIVATE_DIR = EnumSet.of(PosixFilePermission.OWNER_READ,
      PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_EXECUTE);
  /** Larger cache files are not read: an ExecCredential is a few kilobytes. */
  private static final long MAX_SIZE = 256 * 1024;

  private final Path dir;
  private final String server;
  private final String sessionHash;
  private final Path file;
  private final Path lockFile;
  /** Why the last {@link #read} found nothing usable, for {@code AIRLOCK_DEBUG}. */
  String why = "";

  /**
   * One cached entry: the credential, on this machine's clock when it stops being served, and the processes it was
   * served to (their ids, in {@code served PID} lines after the credential).
   */
  static final class Entry {
    final String credential;
    final long expires;
    final long lifetime;
    final String served;

    Entry(String credential, long expires, long lifetime, String served) {
      this.credential = credential;
      this.expires = expires;
      this.lifetime = lifetime;
      this.served = served;
    }

    /**
     * Whether this token was served to process {@code pid} already. client-go runs the plugin once per process and
     * token, and again when the API server refused the token (401): a second call from the same kubectl means the
     * cached token was refused (a revoked session), so it must not be served again.
     */
    boolean servedTo(long pid) {
      return served.contains("\nserved " + pid + "\n");
    }

    /** Still valid, and not yet within the earlier of 60 s or a tenth of its lifetime before it expires. */
    boolean fresh(long now) {
      return now < expires - Math.min(60_000L, lifetime / 10);
    }

    /** Not expired (a stale but valid token still serves when the server cannot be reached). */
    boolean valid(long now) {
      return now < expires;
    }
  }

  public TokenCache(Path dir, String server, String session) {
    this.dir = dir;
    this.server = server;
    this.sessionHash = sha256(server + "\n" + session);
    String key = sessionHash.substring(0, 32);
    this.file = dir.resolve(key + ".json");
    this.lockFile = dir.resolve(key + ".lock");
  }

  /** The cache directory: {@code $AIRLOCK_KUBE_CACHE_DIR}, else {@code ~/.kube/cache/airlock}. */
  public static Path defaultDir(String override) {
    if (override != null && !override.isEmpty()) {
      return Path.of(override);
    }
    return Path.of(System.getProperty("user.home"), ".kube", "cache", "airlock");
  }

  Path file() {
    return file;
  }

  /** The cached entry for this server and session, or null (then {@link #why} says why). */
  Entry read() {
    PosixFileAttributes a;
    try {
      a = Files.readAttributes(file, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (NoSuchFileException e) {
      why = "no cached token";
      return null;
    } catch (IOException | UnsupportedOperationException e) {
      why = "cannot read " + file + ": " + e;
      return null;
    }
    if (!a.isRegularFile() || a.size() > MAX_SIZE) {
      why = file + " is not a cache file";
      return null;
    }
    if (!a.owner().getName().equals(System.getProperty("user.name"))) {
      why = file + " belongs to " + a.owner().getName() + ", not to this user";
      return null;
    }
    if (!PRIVATE_FILE.containsAll(a.permissions())) {
      why = file + " may be read by others (" + PosixFilePermissions.toString(a.permissions()) + ")";
      return null;
    }
    String text;
    try {
      text = new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
    } catch (IOException e) {
      why = "cannot read " + file + ": " + e;
      return null;
    }
    Entry e = parse(text);
    if (e == null) {
      why = file + " is damaged or for another server or session";
    }
    return e;
  }

  private Entry parse(String text) {
    int body = text.indexOf("\n\n");
    if (body < 0) {
      return null;
    }
    String[] lines = text.substring(0, body).split("\n");
    if (lines.length != 5 || !lines[0].equals(MAGIC) || !lines[1].equals("server " + server)
        || !lines[2].equals("session " + sessionHash) || !lines[3].startsWith("expires ")
        || !lines[4].startsWith("lifetime ")) {
      return null;
    }
    long expires;
    long lifetime;
    try {
      expires = Long.parseLong(lines[3].substring(8));
      lifetime = Long.parseLong(lines[4].substring(9));
    } catch (NumberFormatException x) {
      return null;
    }
    int end = text.indexOf('\n', body + 2);
    String credential = (end < 0 ? text.substring(body + 2) : text.substring(body + 2, end)).strip();
    if (!credential.startsWith("{") || !credential.endsWith("}") || lifetime <= 0) {
      return null;
    }
    return new Entry(credential, expires, lifetime, end < 0 ? "\n" : text.substring(end));
  }

  /**
   * Makes the directory (0700) if needed. Fails when it cannot be made private: a directory another user owns,
   * or one this user may not write.
   */
  void ensureDir() throws IOException {
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      Files.createDirectories(dir.getParent());
      try {
        Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PRIVATE_DIR));
      } catch (FileAlreadyExistsException e) {
        // another kube-token made it just now
      }
    }
    PosixFileAttributes a = Files.readAttributes(dir, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    if (!a.isDirectory() || !a.owner().getName().equals(System.getProperty("user.name"))) {
      throw new IOException(dir + " is not a directory of this user's");
    }
    if (!PRIVATE_DIR.containsAll(a.permissions())) {
      Files.setPosixFilePermissions(dir, PRIVATE_DIR);
    }
  }

  /** Takes the lock for this server and session (blocks while another kube-token holds it). */
  FileLock lock() throws IOException {
    FileChannel ch = FileChannel.open(lockFile, Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE),
        PosixFilePermissions.asFileAttribute(PRIVATE_FILE));
    try {
      return ch.lock();
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  /** Notes that the entry was served to process {@code pid} (appended: one short write, no rename). */
  void served(long pid) {
    try {
      Files.write(file, ("served " + pid + "\n").getBytes(StandardCharsets.US_ASCII), StandardOpenOption.APPEND);
    } catch (IOException e) {
      // without the note a refused token is served once more to the same process; nothing else depends on it
    }
  }

  /**
   * Writes the entry: a private temporary file beside it, then renamed over it. The credential is kept on one line
   * (the server sends compact JSON; line breaks in JSON are only whitespace).
   */
  void write(String credential, long expires, long lifetime, long servedTo) throws IOException {
    String text = MAGIC + "\nserver " + server + "\nsession " + sessionHash + "\nexpires " + expires
        + "\nlifetime " + lifetime + "\n\n" + credential.strip().replace('\n', ' ').replace('\r', ' ') + "\n"
        + (servedTo > 0 ? "served " + servedTo + "\n" : "");
    Path tmp = Files.createTempFile(dir, ".kube-token-", ".tmp", PosixFilePermissions.asFileAttribute(PRIVATE_FILE));
    try {
      Files.write(tmp, text.getBytes(StandardCharsets.UTF_8));
      try {
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** Deletes this server's and session's cached token (a refused session, a logout). */
  void delete() {
    try {
      Files.deleteIfExists(file);
      Files.deleteIfExists(lockFile);
    } catch (IOException e) {
      // a token the server refuses is refused again next time; nothing else depends on the file being gone
    }
  }

  /** Forgets the cached token of a session: {@code airlock logout}. */
  public static void forget(Path dir, URI server, String session) {
    new TokenCache(dir, KubeTokenMain.serverKey(server.toString()), session).delete();
  }

  static String sha256(String s) {
    return Sha256.hex(s);
  }

}
