package dev.airlock.airgap.serve;

import java.nio.charset.StandardCharsets;

/**
 * A port speaks TLS or plain HTTP, and a connection's first byte says which its client speaks: a TLS handshake
 * record starts with {@value #TLS_HANDSHAKE}, an HTTP request with a method's letter. A client that speaks the other
 * is answered at once in plain HTTP with a 400 that says which scheme to use, instead of a reset or a timeout.
 */
public final class WrongScheme {

  /** The content type of a TLS handshake record: the first byte of every TLS connection. */
  public static final int TLS_HANDSHAKE = 0x16;

  private WrongScheme() {}

  /** Whether a connection whose first byte is {@code first} speaks TLS. */
  public static boolean tls(int first) {
    return first == TLS_HANDSHAKE;
  }

  /** A complete HTTP/1.1 {@code 400 Bad Request} whose text body is {@code text}, closing the connection. */
  public static byte[] badRequest(String text) {
    byte[] body = text.getBytes(StandardCharsets.UTF_8);
    byte[] head = ("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n"
        + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
    byte[] all = new byte[head.length + body.length];
    System.arraycopy(head, 0, all, 0, head.length);
    System.arraycopy(body, 0, all, head.length, body.length);
    return all;
  }
}
