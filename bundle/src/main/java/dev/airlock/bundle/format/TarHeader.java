package dev.airlock.bundle.format;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Encodes POSIX ustar headers for regular files, which is all a bundle holds. Sizes beyond the octal field use the
 * base-256 form GNU tar and Go's archive/tar read; names over 100 bytes use the ustar prefix field.
 */
public final class TarHeader {

  public static final int BLOCK = 512;

  private TarHeader() {}

  /** The 512-byte ustar header of a regular file (mode 0644, owner 0:0). */
  public static byte[] header(String name, long size, long mtime) {
    byte[] h = new byte[BLOCK];
    byte[] full = name.getBytes(StandardCharsets.UTF_8);
    if (full.length <= 100) {
      System.arraycopy(full, 0, h, 0, full.length);
    } else {
      int split = name.lastIndexOf('/', 155);
      byte[] prefix = name.substring(0, Math.max(split, 0)).getBytes(StandardCharsets.UTF_8);
      byte[] rest = name.substring(split + 1).getBytes(StandardCharsets.UTF_8);
      if (split <= 0 || prefix.length > 155 || rest.length > 100) {
        throw new IllegalArgumentException("name too long for a ustar entry: " + name);
      }
      System.arraycopy(rest, 0, h, 0, rest.length);
      System.arraycopy(prefix, 0, h, 345, prefix.length);
    }
    octal(h, 100, 8, 0644);
    octal(h, 108, 8, 0);
    octal(h, 116, 8, 0);
    if (size < 077777777777L) {
      octal(h, 124, 12, size);
    } else {
      h[124] = (byte) 0x80;
      for (int i = 0; i < 8; i++) {
        h[135 - i] = (byte) (size >>> (8 * i));
      }
    }
    octal(h, 136, 12, mtime);
    h[156] = '0';
    byte[] magic = "ustar\00000".getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(magic, 0, h, 257, magic.length);
    Arrays.fill(h, 148, 156, (byte) ' ');
    long sum = 0;
    for (byte b : h) {
      sum += b & 0xff;
    }
    octal(h, 148, 7, sum);
    h[155] = ' ';
    return h;
  }

  private static void octal(byte[] h, int off, int len, long value) {
    String s = Long.toOctalString(value);
    int digits = len - 1;
    if (s.length() > digits) {
      throw new IllegalArgumentException("value " + value + " does not fit in a tar header field");
    }
    String padded = "0".repeat(digits - s.length()) + s;
    System.arraycopy(padded.getBytes(StandardCharsets.US_ASCII), 0, h, off, digits);
    h[off + digits] = 0;
  }
}
