package dev.airlock.installer.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.io.AtomicFiles;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Bundles uploaded through the console, streamed to disk in chunks and resumable: an upload is named by who sends
 * which file (name, size, modification time), so choosing the same file again after a dropped connection or a closed
 * tab carries on at the bytes already received. A chunk is appended only at the offset the server has; anything
 * else is answered with that offset. Nothing is held in memory beyond one copy buffer. Uploads older than a day are
 * removed.
 */
final class Uploads {

  /** Where an upload stands. */
  record Upload(String id, String name, long size, long received, String user, Instant started) {
    boolean complete() {
      return received == size;
    }

    public int percent() {
      return size == 0 ? 100 : (int) (received * 100 / size);
    }
  }

  static final Duration KEEP = Duration.ofDays(1);
  private static final String PART = ".part";
  private static final String DONE = ".airlock";
  private final Path dir;
  private final Clock clock;
  private final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();

  Uploads(Path dir, Clock clock) {
    this.dir = dir;
    this.clock = clock;
  }

  /** Starts an upload of {@code name} ({@code size} bytes), or finds the one already started for that file. */
  Upload begin(String user, String name, long size, String modified) {
    if (name == null || name.isBlank() || size <= 0) {
      throw new AirlockException(Kind.BAD_INPUT, "an upload needs the file's name and size", "choose the bundle "
          + "file again");
    }
    String id = Sessions.sha256("upload:" + user + "\n" + name + "\n" + size + "\n" + modified).substring(0, 24);
    ReentrantLock lock = lock(id);
    lock.lock();
    try {
      Files.createDirectories(dir);
      Upload known = find(id);
      if (known != null) {
        return known;
      }
      long free = Files.getFileStore(dir).getUsableSpace();
      if (free < size) {
        throw new AirlockException(Kind.BAD_INPUT, "the server has " + (free >> 20) + " MiB free in " + dir
            + " and the bundle is " + (size >> 20) + " MiB", "give the server's upload volume more room "
            + "(docs/console.md), or upgrade from the CLI: airlock upgrade --bundle FILE");
      }
      Map<String, Object> meta = new LinkedHashMap<>();
      meta.put("name", name.replaceAll("[\\r\\n]", ""));
      meta.put("size", size);
      meta.put("user", user);
      meta.put("started", clock.instant().toString());
      AtomicFiles.write(dir.resolve(id + ".json"), Web.JSON.writeValueAsString(meta), false, true);
      Files.deleteIfExists(dir.resolve(id + PART));
      Files.createFile(dir.resolve(id + PART));
      return find(id);
    } catch (IOException e) {
      throw new AirlockException(Kind.IO, "cannot start the upload in " + dir + ": " + e.getMessage(),
          "give the server a writable upload directory (--upload-dir)", e);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Appends the chunk {@code in} at {@code offset}: the server's offset, or the upload answers 409 with it. Bytes
   * past the announced size are refused and dropped.
   */
  Upload append(String id, String user, long offset, InputStream in) throws IOException {
    ReentrantLock lock = lock(id);
    if (!lock.tryLock()) {
      throw conflict(require(id, user), "another chunk of this upload is being written");
    }
    try {
      Upload u = require(id, user);
      if (u.complete()) {
        return u;
      }
      if (offset != u.received()) {
        throw conflict(u, "the server has " + u.received() + " bytes of this upload, not " + offset);
      }
      Path part = dir.resolve(id + PART);
      long room = u.size() - u.received();
      try (FileChannel out = FileChannel.open(part, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
        byte[] buf = new byte[1 << 20];
        long written = 0;
        int n;
        while ((n = in.read(buf)) > 0) {
          if (written + n > room) {
            out.truncate(u.received() + written);
            throw new AirlockException(Kind.BAD_INPUT, "the upload sends more than the " + u.size() + " bytes it "
                + "announced", "choose the file again: a changed file is a new upload");
          }
          ByteBuffer b = ByteBuffer.wrap(buf, 0, n);
          while (b.hasRemaining()) {
            out.write(b);
          }
          written += n;
        }
        if (u.received() + written == u.size()) {
          out.force(false); // once, whole: a crash before it leaves a shorter file, which resumes
        }
      }
      if (Files.size(part) == u.size()) {
        Files.move(part, dir.resolve(id + DONE), StandardCopyOption.ATOMIC_MOVE);
      }
      return require(id, user);
    } finally {
      lock.unlock();
    }
  }

  /** The upload {@code id} of {@code user}, or a refusal. */
  Upload require(String id, String user) {
    Upload u = id != null && id.matches("[0-9a-f]{24}") ? find(id) : null;
    if (u == null || !u.user().equals(user)) {
      throw new AirlockException(Kind.BAD_INPUT, "no upload " + id + " of yours on this server (uploads are kept "
          + "for a day)", "upload the bundle again").with("status", "404");
    }
    return u;
  }

  /** The complete bundle of an upload. */
  Path bundle(Upload u) {
    if (!u.complete()) {
      throw new AirlockException(Kind.BAD_INPUT, "the upload of " + u.name() + " is not complete (" + u.received()
          + " of " + u.size() + " bytes)", "choose the file again: the upload resumes where it stopped");
    }
    return dir.resolve(u.id() + DONE);
  }

  void delete(String id) {
    for (String suffix : new String[] {PART, DONE, ".json"}) {
      try {
        Files.deleteIfExists(dir.resolve(id + suffix));
      } catch (IOException e) {
        // removed by the next sweep
      }
    }
  }

  /** Removes uploads started more than {@link #KEEP} ago. */
  void sweep() {
    if (!Files.isDirectory(dir)) {
      return;
    }
    try (var files = Files.list(dir)) {
      files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".json")).map(n -> n.substring(0,
          n.length() - 5)).forEach(id -> {
            Upload u = find(id);
            if (u == null || u.started().plus(KEEP).isBefore(clock.instant())) {
              delete(id);
            }
          });
    } catch (IOException e) {
      // the next sweep tries again
    }
  }

  private Upload find(String id) {
    Path meta = dir.resolve(id + ".json");
    if (!Files.isRegularFile(meta)) {
      return null;
    }
    try {
      JsonNode m = Web.JSON.readTree(meta.toFile());
      Path done = dir.resolve(id + DONE);
      Path part = dir.resolve(id + PART);
      long received = Files.exists(done) ? Files.size(done) : Files.exists(part) ? Files.size(part) : 0;
      return new Upload(id, m.path("name").asText(), m.path("size").asLong(), received, m.path("user").asText(),
          Instant.parse(m.path("started").asText()));
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  private ReentrantLock lock(String id) {
    return locks.computeIfAbsent(id, k -> new ReentrantLock());
  }

  private static AirlockException conflict(Upload u, String why) {
    return new AirlockException(Kind.BAD_INPUT, why, "send from offset " + u.received()).with("status", "409")
        .with("offset", Long.toString(u.received()));
  }
}
