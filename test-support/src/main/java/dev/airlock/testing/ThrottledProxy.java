package dev.airlock.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;

/**
 * A TCP proxy on a loopback port that slows each direction of every connection to {@code bytesPerSecond}: so a test
 * can stop a download or an upload midway at a moment of its choosing, which an unthrottled loopback transfer
 * finishes too fast for.
 */
public final class ThrottledProxy implements AutoCloseable {

  private final ServerSocket server;
  private final int targetPort;
  private final long bytesPerSecond;
  private final List<Socket> open = new ArrayList<>();

  private ThrottledProxy(ServerSocket server, int targetPort, long bytesPerSecond) {
    this.server = server;
    this.targetPort = targetPort;
    this.bytesPerSecond = bytesPerSecond;
  }

  /** Forwards a free loopback port to {@code 127.0.0.1:targetPort}. */
  public static ThrottledProxy start(int targetPort, long bytesPerSecond) {
    try {
      ThrottledProxy p = new ThrottledProxy(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()), targetPort,
          bytesPerSecond);
      Thread t = new Thread(p::accept, "throttled-proxy");
      t.setDaemon(true);
      t.start();
      return p;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@code 127.0.0.1:PORT} of the proxy. */
  public String host() {
    return "127.0.0.1:" + server.getLocalPort();
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket client = server.accept();
        Socket upstream = new Socket(InetAddress.getLoopbackAddress(), targetPort);
        synchronized (open) {
          open.add(client);
          open.add(upstream);
        }
        pump(client.getInputStream(), upstream.getOutputStream(), bytesPerSecond, client, upstream);
        pump(upstream.getInputStream(), client.getOutputStream(), bytesPerSecond, client, upstream);
      } catch (IOException e) {
        return;
      }
    }
  }

  private static void pump(InputStream in, OutputStream out, long rate, Socket a, Socket b) {
    Thread t = new Thread(() -> {
      byte[] buf = new byte[16 * 1024];
      long start = System.nanoTime();
      long sent = 0;
      try {
        for (int n; (n = in.read(buf)) > 0; ) {
          out.write(buf, 0, n);
          out.flush();
          sent += n;
          if (rate != Long.MAX_VALUE) {
            long due = start + sent * 1_000_000_000L / rate;
            long wait = due - System.nanoTime();
            if (wait > 0) {
              Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
            }
          }
        }
      } catch (IOException | InterruptedException ignored) {
        // one side closed
      } finally {
        try {
          a.close();
          b.close();
        } catch (IOException ignored) {
          // closing
        }
      }
    }, "throttled-proxy-pump");
    t.setDaemon(true);
    t.start();
  }

  @Override
  public void close() {
    try {
      server.close();
      synchronized (open) {
        for (Socket s : open) {
          s.close();
        }
      }
    } catch (IOException ignored) {
      // closing
    }
  }
}
