package dev.airlock.oci;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongConsumer;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;

/**
 * A client of the OCI distribution API: manifests and blobs, pull and push, with Docker-style basic and bearer-token
 * auth, plain HTTP for named hosts, extra CA certificates, retries with backoff on 5xx, 429 and dropped connections,
 * and blob downloads that resume with Range requests and verify the digest while streaming.
 * Thread-safe; one instance serves many parallel transfers.
 */
public final class RegistryClient {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern CHALLENGE_PARAM = Pattern.compile("(\\w+)=\"([^\"]*)\"");

  private final RegistryOptions options;
  private final HttpClient http;
  /** Authorization header values by host and scope. */
  private final Map<String, String> authByScope = new ConcurrentHashMap<>();

  public RegistryClient(RegistryOptions options) {
    this.options = options;
    SSLContext ssl = TlsSupport.sslContext(options.caFiles());
    this.http = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(15))
        .followRedirects(HttpClient.Redirect.NEVER)
        .sslContext(ssl)
        .build();
  }

  public RegistryOptions options() {
    return options;
  }

  /** A manifest's bytes, media type and digest. */
  public record Manifest(byte[] bytes, String mediaType, Digest digest) {
    public JsonNode json() {
      try {
        return JSON.readTree(bytes);
      } catch (IOException e) {
        throw new AirlockException(Kind.REMOTE, "manifest " + digest + " is not JSON", null, e);
      }
    }
  }

  /** Checks that the registry answers and the credentials (if any) are accepted for pulling {@code repository}. */
  public void ping(String registry, String repository, boolean push) {
    send(registry, repository, push, "GET", "/v2/", null, Map.of(), HttpResponse.BodyHandlers.discarding(),
        "reach the registry");
  }

  public Manifest getManifest(String registry, String repository, String reference) {
    HttpResponse<byte[]> r = send(registry, repository, false, "GET",
        "/v2/" + repository + "/manifests/" + reference, null, Map.of("Accept", MediaTypes.MANIFEST_ACCEPT),
        HttpResponse.BodyHandlers.ofByteArray(), "get manifest " + registry + "/" + repository + ":" + reference);
    if (r.statusCode() == 404) {
      throw new AirlockException(Kind.REMOTE, "image " + registry + "/" + repository + ":" + reference
          + " was not found (HTTP 404)", "check the image name and tag, and the --mirror settings");
    }
    expect(r, 200, "get manifest " + registry + "/" + repository + ":" + reference);
    byte[] body = r.body();
    if (body.length > 4 * 1024 * 1024) {
      throw new AirlockException(Kind.REMOTE, "manifest " + registry + "/" + repository + ":" + reference
          + " is larger than 4 MiB", null);
    }
    Digest digest = Digest.of(body);
    if (Digest.isDigest(reference) && !Digest.parse(reference).equals(digest)) {
      throw new AirlockException(Kind.VERIFICATION, "registry " + registry + " answered manifest " + reference
          + " with content whose digest is " + digest, "the registry or a proxy altered the content");
    }
    String mediaType = r.headers().firstValue("Content-Type").map(RegistryClient::bareMediaType).orElse("");
    if (!MediaTypes.isIndex(mediaType) && !MediaTypes.isManifest(mediaType)) {
      String declared = new Manifest(body, mediaType, digest).json().path("mediaType").asText("");
      mediaType = declared.isEmpty() ? MediaTypes.OCI_MANIFEST : declared;
    }
    return new Manifest(body, mediaType, digest);
  }

  /** The blob's size if the repository has it. */
  public Optional<Long> blobSize(String registry, String repository, Digest digest) {
    HttpResponse<Void> r = send(registry, repository, false, "HEAD", "/v2/" + repository + "/blobs/" + digest, null,
        Map.of(), HttpResponse.BodyHandlers.discarding(), "check blob " + digest);
    if (r.statusCode() == 404) {
      return Optional.empty();
    }
    if (r.statusCode() == 307 || r.statusCode() == 302) {
      return Optional.of(-1L);
    }
    expect(r, 200, "check blob " + digest.shortHex() + " in " + registry + "/" + repository);
    return Optional.of(r.headers().firstValueAsLong("Content-Length").orElse(-1));
  }

  /**
   * Downloads a blob into {@code target} (created or truncated), verifying size and digest. A dropped connection is
   * resumed with a Range request from where it stopped.
   */
  public void downloadBlob(String registry, String repository, Digest digest, long size, Path target,
      LongConsumer progress) {
    try (FileChannel out = FileChannel.open(target, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      downloadBlob(registry, repository, digest, size, out, 0, progress);
    } catch (IOException e) {
      throw new AirlockException(Kind.IO, "cannot write " + target + ": " + e.getMessage(),
          "check free disk space and permissions", e);
    }
  }

  /**
   * Downloads a blob into {@code out} at {@code offset} with positional writes (many downloads may share one file),
   * verifying size and digest while streaming. A dropped connection is resumed with a Range request.
   */
  public void downloadBlob(String registry, String repository, Digest digest, long size, FileChannel out,
      long offset, LongConsumer progress) {
    downloadBlob(registry, repository, digest, size, out, offset, 0, progress);
  }

  /**
   * As above, continuing a download an earlier run stopped after {@code alreadyWritten} bytes (already in
   * {@code out} at {@code offset}): those bytes are hashed from the file and the rest is fetched with a Range
   * request. If the whole then fails its digest check, the blob is fetched once more from its first byte (the kept
   * bytes may not have reached the disk).
   */
  public void downloadBlob(String registry, String repository, Digest digest, long size, FileChannel out,
      long offset, long alreadyWritten, LongConsumer progress) {
    if (alreadyWritten > 0) {
      MessageDigest sha = Digest.sha256();
      try {
        ByteBuffer buf = ByteBuffer.allocate(1 << 20);
        long pos = 0;
        while (pos < alreadyWritten) {
          buf.clear().limit((int) Math.min(buf.capacity(), alreadyWritten - pos));
          int n = out.read(buf, offset + pos);
          if (n <= 0) {
            break;
          }
          sha.update(buf.array(), 0, n);
          pos += n;
        }
        if (pos == alreadyWritten) {
          try {
            fetchBlob(registry, repository, digest, size, out, offset, sha, alreadyWritten, progress);
            return;
          } catch (AirlockException e) {
            if (e.kind() != Kind.VERIFICATION) {
              throw e;
            }
            // the kept bytes were not what the journal said: start over below
          }
        }
      } catch (IOException e) {
        // unreadable kept bytes: start over
      }
    }
    fetchBlob(registry, repository, digest, size, out, offset, Digest.sha256(), 0, progress);
  }

  private void fetchBlob(String registry, String repository, Digest digest, long size, FileChannel out,
      long offset, MessageDigest sha, long start, LongConsumer progress) {
    String what = "download blob " + digest.shortHex() + " of " + registry + "/" + repository;
    long written = start;
    int attempt = 0;
    byte[] buf = new byte[256 * 1024];
    while (true) {
      attempt++;
      Map<String, String> headers = written > 0 ? Map.of("Range", "bytes=" + written + "-") : Map.of();
      HttpResponse<InputStream> r = sendFollowing(registry, repository, "/v2/" + repository + "/blobs/" + digest,
          headers, what);
      int status = r.statusCode();
      try (InputStream body = r.body()) {
        if (status == 404) {
          throw new AirlockException(Kind.REMOTE, "blob " + digest + " is missing from " + registry + "/"
              + repository + " (HTTP 404)", "the image in the registry is incomplete; push it again");
        }
        if (status == 200 && written > 0) {
          // The server ignored the Range request: start over.
          progress.accept(-(written - start));
          sha.reset();
          written = 0;
          start = 0;
        } else if (status != 200 && status != 206) {
          throw httpError(r.statusCode(), r.headers(), readSmall(body), what, registry);
        }
        int n;
        while ((n = body.readNBytes(buf, 0, buf.length)) > 0) {
          dev.airlock.io.Cancellation.check("downloading blob " + digest.shortHex());
          if (size >= 0 && written + n > size) {
            throw new AirlockException(Kind.VERIFICATION, "blob " + digest + " from " + registry + "/" + repository
                + " is larger than the " + size + " bytes its manifest declares", null);
          }
          sha.update(buf, 0, n);
          ByteBuffer bb = ByteBuffer.wrap(buf, 0, n);
          long pos = offset + written;
          while (bb.hasRemaining()) {
            pos += writeAt(out, bb, pos);
          }
          written += n;
          progress.accept(n);
        }
        break;
      } catch (IOException e) {
        if (e instanceof LocalWriteException w) {
          throw new AirlockException(Kind.IO, "cannot write blob " + digest + ": " + w.getCause().getMessage(),
              "check free disk space and permissions", w.getCause());
        }
        if (attempt >= options.maxAttempts()) {
          throw unreachable(registry, what, e);
        }
        sleep(attempt);
      }
    }
    if (size >= 0 && written != size) {
      throw new AirlockException(Kind.VERIFICATION, "blob " + digest + " from " + registry + "/" + repository
          + " has " + written + " bytes, its manifest declares " + size, "the source registry holds a damaged blob");
    }
    Digest actual = Digest.of(sha);
    if (!actual.equals(digest)) {
      throw new AirlockException(Kind.VERIFICATION, "blob " + digest + " from " + registry + "/" + repository
          + " has the digest " + actual, "the source registry holds a damaged blob, or a proxy altered it");
    }
  }

  /**
   * Whether a TLS connection failed because the server speaks plain HTTP: the JDK's TLS layer then reports an
   * unrecognized record ("plaintext connection?" in older JDKs).
   */
  static boolean answeredInPlainHttp(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof javax.net.ssl.SSLException && !(t instanceof SSLHandshakeException)) {
        String m = String.valueOf(t.getMessage()).toLowerCase(java.util.Locale.ROOT);
        if (m.contains("plaintext connection") || m.contains("unrecognized ssl message")) {
          return true;
        }
      }
    }
    return false;
  }

  /** An upload stopped on purpose (a wrong digest): retrying would fail the same way. */
  private static final class NotRetried extends IOException {
    NotRetried(String message) {
      super(message);
    }
  }

  private static boolean notRetried(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof NotRetried || t instanceof AirlockException a && a.kind() == Kind.CANCELLED) {
        return true;
      }
    }
    return false;
  }

  /** A local write failure, kept apart from network failures so it is not retried as one. */
  private static final class LocalWriteException extends IOException {
    LocalWriteException(IOException cause) {
      super(cause);
    }
  }

  private static int writeAt(FileChannel out, ByteBuffer bb, long pos) throws LocalWriteException {
    try {
      return out.write(bb, pos);
    } catch (IOException e) {
      throw new LocalWriteException(e);
    }
  }

  /** Opens a blob for reading (no digest check: the caller verifies). */
  public InputStream openBlob(String registry, String repository, Digest digest) {
    String what = "read blob " + digest.shortHex() + " of " + registry + "/" + repository;
    HttpResponse<InputStream> r = sendFollowing(registry, repository, "/v2/" + repository + "/blobs/" + digest,
        Map.of(), what);
    if (r.statusCode() != 200) {
      try (InputStream body = r.body()) {
        throw httpError(r.statusCode(), r.headers(), readSmall(body), what, registry);
      } catch (IOException e) {
        throw unreachable(registry, what, e);
      }
    }
    return r.body();
  }

  /**
   * Uploads a blob unless the repository already has it: tries a cross-repository mount from {@code mountFrom}
   * first when given, then a monolithic upload. Returns true if bytes were sent.
   */
  public boolean pushBlob(String registry, String repository, Digest digest, long size,
      Supplier<InputStream> content, String mountFrom) {
    if (blobSize(registry, repository, digest).isPresent()) {
      return false;
    }
    if (mountFrom != null && mountBlob(registry, repository, digest, mountFrom)) {
      return false;
    }
    uploadBlob(registry, repository, digest, size, (from, length) -> {
      InputStream in = content.get();
      try {
        in.skipNBytes(from);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
      return new BoundedStream(in, length);
    }, 0);
    return true;
  }

  /** Asks the registry to link a blob from another repository; true if it did (HTTP 201). */
  public boolean mountBlob(String registry, String repository, Digest digest, String fromRepository) {
    if (fromRepository.equals(repository)) {
      return false;
    }
    String what = "mount blob " + digest.shortHex() + " into " + registry + "/" + repository;
    HttpResponse<Void> m = send(registry, repository, true, "POST", "/v2/" + repository + "/blobs/uploads/?mount="
        + digest + "&from=" + enc(fromRepository), HttpRequest.BodyPublishers.noBody(), Map.of(),
        HttpResponse.BodyHandlers.discarding(), what);
    if (m.statusCode() == 201) {
      return true;
    }
    if (m.statusCode() == 202) {
      // The registry opened an upload instead of mounting; abandon it.
      m.headers().firstValue("Location").ifPresent(loc -> cancelUpload(registry, repository, loc));
      return false;
    }
    throw httpError(m.statusCode(), m.headers(), "", what, registry);
  }

  /** Opens a stream over {@code length} bytes of a blob from offset {@code from}. */
  @FunctionalInterface
  public interface BlobContent {
    InputStream open(long from, long length);
  }

  /**
   * Uploads a blob: in one PUT, or in PATCH chunks when the registry asks for them ({@code OCI-Chunk-Min-Length})
   * or when {@code chunkSize} is positive and smaller than the blob. The registry checks the digest.
   */
  public void uploadBlob(String registry, String repository, Digest digest, long size, BlobContent content,
      long chunkSize) {
    String what = "upload blob " + digest.shortHex() + " to " + registry + "/" + repository;
    HttpResponse<Void> r = send(registry, repository, true, "POST", "/v2/" + repository + "/blobs/uploads/",
        HttpRequest.BodyPublishers.noBody(), Map.of(), HttpResponse.BodyHandlers.discarding(), what);
    if (r.statusCode() != 202) {
      throw httpError(r.statusCode(), r.headers(), "", what, registry);
    }
    String location = location(registry, r.headers(), what);
    long minChunk = r.headers().firstValueAsLong("OCI-Chunk-Min-Length").orElse(0);
    long chunk = Math.max(chunkSize, minChunk);
    // The bytes are hashed as they stream: a blob that does not match its digest fails before its last byte is
    // sent, so the registry never commits it (and never sees a wrong blob under a right name).
    Verified verified = new Verified(digest, size);
    try {
      if (chunk <= 0 || chunk >= size) {
        putUpload(registry, repository, digest, size, () -> verified.open(content, 0, size), location, what);
        return;
      }
      long done = 0;
      while (done < size) {
        long n = Math.min(chunk, size - done);
        long start = done;
        HttpResponse<String> p = sendUrl(registry, repository, true, "PATCH", location,
            () -> HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofInputStream(
                () -> verified.open(content, start, n)), n),
            Map.of("Content-Type", "application/octet-stream", "Content-Range", start + "-" + (start + n - 1)),
            HttpResponse.BodyHandlers.ofString(), what + " (chunk at byte " + start + ")");
        if (p.statusCode() != 202) {
          throw httpError(p.statusCode(), p.headers(), p.body(), what, registry);
        }
        verified.accept(start + n);
        location = location(registry, p.headers(), what);
        done += n;
      }
      String sep = location.contains("?") ? "&" : "?";
      HttpResponse<String> fin = sendUrl(registry, repository, true, "PUT", location + sep + "digest="
          + enc(digest.toString()), HttpRequest.BodyPublishers::noBody, Map.of(),
          HttpResponse.BodyHandlers.ofString(), what);
      if (fin.statusCode() != 201) {
        throw httpError(fin.statusCode(), fin.headers(), fin.body(), what, registry);
      }
    } catch (AirlockException e) {
      if (verified.mismatch != null) {
        cancelUpload(registry, repository, location);
        throw verified.mismatch;
      }
      throw e;
    }
  }

  /**
   * Hashes an upload's bytes as they are read and refuses to hand over the last ones when the digest is wrong. Each
   * attempt at a chunk starts from the hash of the chunks the registry accepted, so retries do not hash twice.
   */
  private static final class Verified {
    private final Digest digest;
    private final long size;
    private MessageDigest accepted = Digest.sha256();
    private final java.util.Map<Long, MessageDigest> attempts = new java.util.concurrent.ConcurrentHashMap<>();
    volatile AirlockException mismatch;

    Verified(Digest digest, long size) {
      this.digest = digest;
      this.size = size;
    }

    synchronized InputStream open(BlobContent content, long from, long length) {
      MessageDigest sha;
      try {
        sha = (MessageDigest) accepted.clone();
      } catch (CloneNotSupportedException e) {
        throw new IllegalStateException(e);
      }
      attempts.put(from + length, sha);
      return new HashingStream(content.open(from, length), sha, from, length);
    }

    /** The registry accepted the bytes up to {@code end}. */
    synchronized void accept(long end) {
      accepted = attempts.remove(end);
    }

    private final class HashingStream extends java.io.FilterInputStream {
      private final MessageDigest sha;
      private long left;
      private final boolean last;

      HashingStream(InputStream in, MessageDigest sha, long from, long length) {
        super(in);
        this.sha = sha;
        this.left = length;
        this.last = from + length == size;
      }

      @Override
      public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        dev.airlock.io.Cancellation.check("uploading blob " + digest.shortHex());
        if (left <= 0) {
          return -1;
        }
        int n = super.read(b, off, (int) Math.min(len, left));
        if (n <= 0) {
          return n;
        }
        sha.update(b, off, n);
        left -= n;
        if (left == 0 && last) {
          Digest actual = Digest.of(sha);
          if (!actual.equals(digest)) {
            mismatch = new AirlockException(Kind.VERIFICATION, "blob " + digest + " read for upload has the digest "
                + actual, "the source of the upload is damaged").with("digest", digest).with("actual", actual);
            throw new NotRetried("digest mismatch: not sending the last bytes of " + digest);
          }
        }
        return n;
      }
    }
  }

  private void cancelUpload(String registry, String repository, String location) {
    try {
      sendUrl(registry, repository, true, "DELETE", location.startsWith("http") ? location : baseUrl(registry)
          + location, HttpRequest.BodyPublishers::noBody, Map.of(), HttpResponse.BodyHandlers.discarding(),
          "cancel an upload");
    } catch (AirlockException ignored) {
      // an abandoned upload expires on the registry by itself
    }
  }

  /** Digest of the manifest a tag or digest points at, if the repository has it. */
  public Optional<Digest> manifestDigest(String registry, String repository, String reference) {
    String what = "check manifest " + registry + "/" + repository + ":" + reference;
    HttpResponse<Void> r = send(registry, repository, false, "HEAD", "/v2/" + repository + "/manifests/" + reference,
        null, Map.of("Accept", MediaTypes.MANIFEST_ACCEPT), HttpResponse.BodyHandlers.discarding(), what);
    if (r.statusCode() == 404) {
      return Optional.empty();
    }
    if (r.statusCode() != 200) {
      throw httpError(r.statusCode(), r.headers(), "", what, registry);
    }
    return r.headers().firstValue("Docker-Content-Digest").filter(Digest::isDigest).map(Digest::parse);
  }

  private void putUpload(String registry, String repository, Digest digest, long size,
      Supplier<InputStream> content, String location, String what) {
    String sep = location.contains("?") ? "&" : "?";
    String url = location + sep + "digest=" + enc(digest.toString());
    HttpResponse<String> r = sendUrl(registry, repository, true, "PUT", url,
        () -> HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofInputStream(content), size),
        Map.of("Content-Type", "application/octet-stream"), HttpResponse.BodyHandlers.ofString(), what);
    if (r.statusCode() != 201) {
      throw httpError(r.statusCode(), r.headers(), r.body(), what, registry);
    }
  }

  /** An input stream that ends after {@code limit} bytes. */
  private static final class BoundedStream extends java.io.FilterInputStream {
    private long left;

    BoundedStream(InputStream in, long limit) {
      super(in);
      this.left = limit;
    }

    @Override
    public int read() throws IOException {
      if (left <= 0) {
        return -1;
      }
      int b = super.read();
      if (b >= 0) {
        left--;
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (left <= 0) {
        return -1;
      }
      int n = super.read(b, off, (int) Math.min(len, left));
      if (n > 0) {
        left -= n;
      }
      return n;
    }
  }

  public Digest putManifest(String registry, String repository, String reference, byte[] bytes, String mediaType) {
    String what = "put manifest " + registry + "/" + repository + ":" + reference;
    HttpResponse<String> r = send(registry, repository, true, "PUT", "/v2/" + repository + "/manifests/" + reference,
        HttpRequest.BodyPublishers.ofByteArray(bytes), Map.of("Content-Type", mediaType),
        HttpResponse.BodyHandlers.ofString(), what);
    if (r.statusCode() != 201 && r.statusCode() != 200) {
      throw httpError(r.statusCode(), r.headers(), r.body(), what, registry);
    }
    return Digest.of(bytes);
  }

  // ---------------------------------------------------------------------------------------------------------------

  private String location(String registry, HttpHeaders headers, String what) {
    String loc = headers.firstValue("Location").orElseThrow(() -> new AirlockException(Kind.REMOTE,
        "registry " + registry + " did not say where to upload (no Location header) while trying to " + what, null));
    return loc.startsWith("http://") || loc.startsWith("https://") ? loc : baseUrl(registry) + loc;
  }

  /** GET that follows redirects itself, dropping Authorization when the redirect leaves the registry. */
  private HttpResponse<InputStream> sendFollowing(String registry, String repository, String path,
      Map<String, String> headers, String what) {
    HttpResponse<InputStream> r = send(registry, repository, false, "GET", path, null, headers,
        HttpResponse.BodyHandlers.ofInputStream(), what);
    int hops = 0;
    while (isRedirect(r.statusCode()) && hops++ < 5) {
      closeQuietly(r.body());
      URI next = r.uri().resolve(r.headers().firstValue("Location").orElseThrow());
      HttpRequest.Builder b = HttpRequest.newBuilder(next).GET();
      headers.forEach(b::header);
      if (next.getAuthority().equals(r.uri().getAuthority())) {
        String auth = r.request().headers().firstValue("Authorization").orElse(null);
        if (auth != null) {
          b.header("Authorization", auth);
        }
      }
      r = execute(b.build(), HttpResponse.BodyHandlers.ofInputStream(), registry, what);
    }
    return r;
  }

  private <T> HttpResponse<T> send(String registry, String repository, boolean push, String method, String path,
      HttpRequest.BodyPublisher body, Map<String, String> headers, HttpResponse.BodyHandler<T> handler, String what) {
    return sendUrl(registry, repository, push, method, baseUrl(registry) + path, body == null ? null : () -> body,
        headers, handler, what);
  }

  private <T> HttpResponse<T> sendUrl(String registry, String repository, boolean push, String method, String url,
      Supplier<HttpRequest.BodyPublisher> body, Map<String, String> headers, HttpResponse.BodyHandler<T> handler,
      String what) {
    String scope = repository == null ? "" : "repository:" + repository + ":" + (push ? "pull,push" : "pull");
    String key = registry + " " + scope;
    boolean refreshed = false;
    int attempt = 0;
    while (true) {
      attempt++;
      HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(options.requestTimeout())
          .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : body.get());
      headers.forEach((k, v) -> {
        if (!k.equalsIgnoreCase("Content-Length")) {
          b.header(k, v);
        }
      });
      String auth = authByScope.get(key);
      if (auth != null) {
        b.header("Authorization", auth);
      }
      HttpResponse<T> r;
      try {
        r = http.send(b.build(), handler);
      } catch (IOException e) {
        if (answeredInPlainHttp(e)) {
          throw new AirlockException(Kind.REMOTE, "registry " + registry + " answered in plain HTTP to a TLS "
              + "connection while trying to " + what, "pass --insecure-registry " + registry + " to use plain HTTP "
              + "with it", e).with(AirlockException.REGISTRY, registry)
              .with(AirlockException.PROBLEM, AirlockException.PLAINTEXT);
        }
        if (e instanceof SSLHandshakeException) {
          throw new AirlockException(Kind.REMOTE, "TLS handshake with registry " + registry + " failed while trying to "
              + what + ": " + e.getMessage(),
              "pass the registry's CA certificate with --registry-ca FILE, or --insecure-registry " + registry
                  + " if it speaks plain HTTP", e).with(AirlockException.REGISTRY, registry)
              .with(AirlockException.PROBLEM, AirlockException.TLS);
        }
        if (notRetried(e)) {
          dev.airlock.io.Cancellation.check(what);
          throw new AirlockException(Kind.VERIFICATION, "stopped trying to " + what + ": " + e.getMessage(), null, e);
        }
        if (attempt >= options.maxAttempts() || body != null && !method.equals("PUT") && !method.equals("PATCH")) {
          throw unreachable(registry, what, e);
        }
        sleep(attempt);
        continue;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AirlockException(Kind.REMOTE, "interrupted while trying to " + what, null, e);
      }
      int status = r.statusCode();
      if (status == 401 && !refreshed) {
        closeBody(r);
        authByScope.put(key, authenticate(registry, scope, r.headers(), what));
        refreshed = true;
        attempt--;
        continue;
      }
      if ((status >= 500 || status == 429) && attempt < options.maxAttempts()) {
        closeBody(r);
        sleep(attempt);
        continue;
      }
      if (status == 401) {
        closeBody(r);
        throw credentialsRefused(registry, what);
      }
      return r;
    }
  }

  private <T> HttpResponse<T> execute(HttpRequest request, HttpResponse.BodyHandler<T> handler, String registry,
      String what) {
    int attempt = 0;
    while (true) {
      attempt++;
      try {
        HttpResponse<T> r = http.send(request, handler);
        if ((r.statusCode() >= 500 || r.statusCode() == 429) && attempt < options.maxAttempts()) {
          closeBody(r);
          sleep(attempt);
          continue;
        }
        return r;
      } catch (IOException e) {
        if (attempt >= options.maxAttempts()) {
          throw unreachable(registry, what, e);
        }
        sleep(attempt);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AirlockException(Kind.REMOTE, "interrupted while trying to " + what, null, e);
      }
    }
  }

  private String authenticate(String registry, String scope, HttpHeaders headers, String what) {
    String challenge = headers.firstValue("WWW-Authenticate").orElse("");
    Optional<Credentials> creds = options.credentials().lookup(registry);
    if (challenge.regionMatches(true, 0, "Basic", 0, 5)) {
      Credentials c = creds.orElseThrow(() -> needsCredentials(registry, what));
      return basic(c);
    }
    if (!challenge.regionMatches(true, 0, "Bearer", 0, 6)) {
      throw new AirlockException(Kind.REMOTE, "registry " + registry + " asks for authentication ('" + challenge
          + "') that airlock does not support", null);
    }
    Map<String, String> params = new LinkedHashMap<>();
    Matcher m = CHALLENGE_PARAM.matcher(challenge);
    while (m.find()) {
      params.put(m.group(1), m.group(2));
    }
    String realm = params.get("realm");
    if (realm == null) {
      throw new AirlockException(Kind.REMOTE, "registry " + registry + " sent a Bearer challenge without a realm",
          null);
    }
    StringBuilder url = new StringBuilder(realm).append(realm.contains("?") ? "&" : "?");
    if (params.containsKey("service")) {
      url.append("service=").append(enc(params.get("service"))).append('&');
    }
    String s = params.getOrDefault("scope", scope);
    if (!s.isEmpty()) {
      url.append("scope=").append(enc(s));
    }
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url.toString())).timeout(options.requestTimeout()).GET();
    creds.ifPresent(c -> b.header("Authorization", basic(c)));
    HttpResponse<byte[]> r = execute(b.build(), HttpResponse.BodyHandlers.ofByteArray(), registry,
        "get a token to " + what);
    if (r.statusCode() == 401 || r.statusCode() == 403) {
      throw creds.isPresent() ? credentialsRefused(registry, what) : needsCredentials(registry, what);
    }
    if (r.statusCode() != 200) {
      throw httpError(r.statusCode(), r.headers(), new String(r.body(), StandardCharsets.UTF_8),
          "get a token to " + what, registry);
    }
    try {
      JsonNode token = JSON.readTree(r.body());
      String t = token.path("token").asText(token.path("access_token").asText(""));
      if (t.isEmpty()) {
        throw new AirlockException(Kind.REMOTE, "the token service of " + registry + " answered without a token",
            null);
      }
      return "Bearer " + t;
    } catch (IOException e) {
      throw new AirlockException(Kind.REMOTE, "the token service of " + registry + " answered with invalid JSON",
          null, e);
    }
  }

  private static String basic(Credentials c) {
    return "Basic " + Base64.getEncoder().encodeToString((c.username() + ":" + c.password())
        .getBytes(StandardCharsets.UTF_8));
  }

  private AirlockException needsCredentials(String registry, String what) {
    return new AirlockException(Kind.REMOTE, "registry " + registry + " requires credentials to " + what,
        "pass --registry-username and --registry-password-stdin, or log in with 'docker login " + registry + "'")
        .with(AirlockException.REGISTRY, registry).with(AirlockException.STATUS, 401)
        .with(AirlockException.PROBLEM, AirlockException.CREDENTIALS_NEEDED);
  }

  private AirlockException credentialsRefused(String registry, String what) {
    String user = options.credentials().lookup(registry).map(Credentials::username).orElse("(none)");
    return new AirlockException(Kind.REMOTE, "registry " + registry + " refused the credentials of user '" + user
        + "' (HTTP 401) while trying to " + what,
        "check the username and password (--registry-username, --registry-password-stdin or docker login)")
        .with(AirlockException.REGISTRY, registry).with(AirlockException.STATUS, 401)
        .with(AirlockException.PROBLEM, AirlockException.CREDENTIALS_REFUSED);
  }

  private AirlockException unreachable(String registry, String what, IOException e) {
    String reason = e instanceof ConnectException ? "connection refused"
        : e instanceof HttpTimeoutException ? "timed out" : String.valueOf(e.getMessage());
    return new AirlockException(Kind.REMOTE, "cannot " + what + ": registry " + registry + " is unreachable ("
        + reason + ") after " + options.maxAttempts() + " attempts",
        "check that the registry is running and reachable from here", e)
        .with(AirlockException.REGISTRY, registry).with(AirlockException.PROBLEM, AirlockException.UNREACHABLE);
  }

  static AirlockException httpError(int status, HttpHeaders headers, String body, String what, String registry) {
    String detail = body == null || body.isBlank() ? "" : ": " + abbreviate(body.strip());
    String fix = switch (status) {
      case 403 -> "the account may read but not write here; ask the registry admin for push rights";
      case 404 -> "check the repository name";
      case 413 -> "the registry (or a proxy before it) limits request sizes; raise that limit";
      default -> null;
    };
    return new AirlockException(Kind.REMOTE, "registry " + registry + " answered HTTP " + status + " to '" + what
        + "'" + detail, fix).with(AirlockException.REGISTRY, registry).with(AirlockException.STATUS, status)
        .with(AirlockException.PROBLEM, status == 403 ? AirlockException.FORBIDDEN : AirlockException.HTTP);
  }

  private static String abbreviate(String s) {
    return s.length() > 300 ? s.substring(0, 300) + "…" : s;
  }

  private void expect(HttpResponse<?> r, int status, String what) {
    if (r.statusCode() != status) {
      Object body = r.body();
      String text = body instanceof byte[] bytes ? new String(bytes, StandardCharsets.UTF_8)
          : body instanceof String s ? s : "";
      throw httpError(r.statusCode(), r.headers(), text, what, r.uri().getAuthority());
    }
  }

  private static String readSmall(InputStream in) throws IOException {
    return new String(in.readNBytes(4096), StandardCharsets.UTF_8);
  }

  private static boolean isRedirect(int status) {
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
  }

  private static void closeBody(HttpResponse<?> r) {
    if (r.body() instanceof InputStream in) {
      closeQuietly(in);
    }
  }

  private static void closeQuietly(InputStream in) {
    try {
      in.close();
    } catch (IOException ignored) {
      // nothing to do: the connection is dropped
    }
  }

  private void sleep(int attempt) {
    long millis = options.initialBackoff().toMillis() << Math.min(attempt - 1, 6);
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AirlockException(Kind.REMOTE, "interrupted", null, e);
    }
  }

  private String baseUrl(String registry) {
    String host = registry.equals(ImageReference.DOCKER_HUB) ? "registry-1.docker.io" : registry;
    return (options.insecureHosts().contains(registry) ? "http://" : "https://") + host;
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  static String bareMediaType(String contentType) {
    int semi = contentType.indexOf(';');
    return (semi >= 0 ? contentType.substring(0, semi) : contentType).strip();
  }
}
