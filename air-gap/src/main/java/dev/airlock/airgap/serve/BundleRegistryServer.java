package dev.airlock.airgap.serve;

import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PushbackInputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.URLDecoder;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * {@link BundleRegistry} over HTTP/1.1 on one port, with or without TLS. The first byte of each connection decides:
 * a TLS handshake record (0x16) is served over TLS when there is a certificate, and otherwise answered at once with
 * {@code 400} and closed — like a plain-HTTP registry does — so a client that tries HTTPS first (skopeo, containerd)
 * falls back to HTTP immediately instead of waiting for a handshake timeout. Anything else is plain HTTP.
 *
 * <p>Only what a read-only registry needs: GET and HEAD, keep-alive, no request bodies (a write is refused and the
 * connection closed). Blobs stream straight from the bundle file.
 */
public final class BundleRegistryServer implements AutoCloseable {

  private static final int MAX_HEADER_BYTES = 64 * 1024;
  private static final int IDLE_MILLIS = 30_000;

  private final BundleRegistry registry;
  private final ServerSocket server;
  private final SSLContext tls;
  private final ExecutorService workers;
  private final Thread acceptor;

  private BundleRegistryServer(BundleRegistry registry, ServerSocket server, SSLContext tls) {
    this.registry = registry;
    this.server = server;
    this.tls = tls;
    this.workers = Executors.newFixedThreadPool(64, r -> {
      Thread t = new Thread(r, "airlock-serve");
      t.setDaemon(true);
      return t;
    });
    this.acceptor = new Thread(this::acceptLoop, "airlock-serve-accept");
    this.acceptor.setDaemon(true);
  }

  /**
   * Listens on {@code address} (port 0 picks a free one).
   *
   * @param tls the TLS context for clients that speak TLS, or null for plain HTTP only
   */
  public static BundleRegistryServer start(BundleRegistry registry, InetSocketAddress address, SSLContext tls) {
    ServerSocket s;
    try {
      s = new ServerSocket();
      s.setReuseAddress(true);
      s.bind(address, 128);
    } catch (IOException e) {
      throw new AirlockException(Kind.IO, "cannot listen on " + address.getHostString() + ":" + address.getPort()
          + ": " + e.getMessage(), "choose another --listen address or port", e);
    }
    BundleRegistryServer srv = new BundleRegistryServer(registry, s, tls);
    srv.acceptor.start();
    return srv;
  }

  public int port() {
    return server.getLocalPort();
  }

  public boolean tls() {
    return tls != null;
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      try {
        Socket socket = server.accept();
        workers.execute(() -> serve(socket));
      } catch (IOException e) {
        if (server.isClosed()) {
          return;
        }
      }
    }
  }

  private void serve(Socket socket) {
    try (socket) {
      socket.setSoTimeout(IDLE_MILLIS);
      socket.setTcpNoDelay(true);
      PushbackInputStream in = new PushbackInputStream(socket.getInputStream(), 1);
      int first = in.read();
      if (first < 0) {
        return;
      }
      if (WrongScheme.tls(first)) {
        if (tls == null) {
          // Not a TLS server: say so in HTTP at once (TLS clients give up on the first record and fall back).
          OutputStream out = socket.getOutputStream();
          out.write(WrongScheme.badRequest("this registry speaks plain HTTP: use http://, not https://\n"));
          out.flush();
          return;
        }
        SSLSocket ssl = (SSLSocket) tls.getSocketFactory().createSocket(socket,
            new ByteArrayInputStream(new byte[] {(byte) first}), true);
        ssl.setUseClientMode(false);
        try (ssl) {
          exchangeLoop(ssl.getInputStream(), ssl.getOutputStream(), null);
        }
        return;
      }
      in.unread(first);
      exchangeLoop(in, socket.getOutputStream(), socket);
    } catch (SocketTimeoutException | SocketException e) {
      // idle or gone
    } catch (IOException e) {
      // the client went away mid-transfer, or spoke something else
    }
  }

  /** Serves requests on one connection until it closes, or a request asks to. */
  private void exchangeLoop(InputStream in, OutputStream rawOut, Socket plain) throws IOException {
    OutputStream out = new BufferedOutputStream(rawOut, 64 * 1024);
    while (true) {
      String requestLine = readLine(in);
      if (requestLine == null) {
        return;
      }
      if (requestLine.isEmpty()) {
        continue;
      }
      String[] parts = requestLine.split(" ");
      Map<String, String> headers = new TreeMap<>();
      int headerBytes = 0;
      for (String line; (line = readLine(in)) != null && !line.isEmpty(); ) {
        headerBytes += line.length();
        if (headerBytes > MAX_HEADER_BYTES) {
          respondPlain(out, 431, "request headers too large");
          return;
        }
        int colon = line.indexOf(':');
        if (colon > 0) {
          headers.put(line.substring(0, colon).strip().toLowerCase(Locale.ROOT), line.substring(colon + 1).strip());
        }
      }
      if (parts.length != 3 || !parts[2].startsWith("HTTP/1.")) {
        respondPlain(out, 400, "not an HTTP/1.x request");
        return;
      }
      String method = parts[0];
      boolean hasBody = headers.containsKey("transfer-encoding") || !headers.getOrDefault("content-length", "0")
          .strip().equals("0");
      String target = parts[1];
      int q = target.indexOf('?');
      String path = URLDecoder.decode(q < 0 ? target : target.substring(0, q), StandardCharsets.UTF_8);
      BundleRegistry.Response r = registry.handle(method, path, headers);
      boolean close = hasBody || "close".equalsIgnoreCase(headers.get("connection"))
          || parts[2].equals("HTTP/1.0") && !"keep-alive".equalsIgnoreCase(headers.get("connection"));
      StringBuilder head = new StringBuilder("HTTP/1.1 ").append(r.status()).append(' ').append(reason(r.status()))
          .append("\r\n");
      r.headers().forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
      head.append("Content-Length: ").append(r.contentLength()).append("\r\n");
      if (close) {
        head.append("Connection: close\r\n");
      }
      head.append("\r\n");
      out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
      if (!method.equals("HEAD") && r.contentLength() > 0) {
        if (r.entry() != null) {
          out.flush();
          if (plain != null) {
            // zero-copy from the bundle file into the socket
            registry.file().transferTo(r.entry(), r.from(), r.length(), plain.getChannel() != null
                ? plain.getChannel() : Channels.newChannel(rawOut));
          } else {
            registry.file().transferTo(r.entry(), r.from(), r.length(), Channels.newChannel(rawOut));
          }
        } else {
          out.write(r.body());
        }
      }
      out.flush();
      if (close) {
        return;
      }
    }
  }

  private static void respondPlain(OutputStream out, int status, String text) throws IOException {
    byte[] body = (text + "\n").getBytes(StandardCharsets.UTF_8);
    out.write(("HTTP/1.1 " + status + " " + reason(status) + "\r\nConnection: close\r\nContent-Type: text/plain\r\n"
        + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
    out.write(body);
    out.flush();
  }

  /** One CRLF- (or LF-) terminated line, or null at the end of the stream. */
  private static String readLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream(128);
    while (true) {
      int b = in.read();
      if (b < 0) {
        return line.size() == 0 ? null : line.toString(StandardCharsets.ISO_8859_1);
      }
      if (b == '\n') {
        String s = line.toString(StandardCharsets.ISO_8859_1);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
      }
      if (line.size() > 8192) {
        throw new IOException("request line too long");
      }
      line.write(b);
    }
  }

  private static String reason(int status) {
    return switch (status) {
      case 200 -> "OK";
      case 206 -> "Partial Content";
      case 400 -> "Bad Request";
      case 401 -> "Unauthorized";
      case 404 -> "Not Found";
      case 405 -> "Method Not Allowed";
      case 416 -> "Range Not Satisfiable";
      case 431 -> "Request Header Fields Too Large";
      default -> "Status";
    };
  }

  @Override
  public void close() {
    try {
      server.close();
    } catch (IOException ignored) {
      // closing
    }
    workers.shutdownNow();
    try {
      workers.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
