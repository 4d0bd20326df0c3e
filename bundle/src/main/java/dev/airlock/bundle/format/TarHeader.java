package dev.airlock.bundle.format;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The header of a regular file in a bundle, encoded by Commons Compress (as {@code TarArchiveOutputStream} would write
 * it): ustar, with the base-256 form for sizes beyond the octal field, and a PAX extended header before an entry
 * whose name does not fit ustar. The bundle writer places headers at offsets it computed before any blob is fetched,
 * so it needs each header's bytes — and their length — on their own.
 */
public final class TarHeader {

  public static final int BLOCK = 512;

  private TarHeader() {}

  /** The header block(s) of a regular file (mode 0644, owner 0:0): 512 bytes, more with a PAX name header. */
  public static byte[] header(String name, long size, long mtime) {
    org.apache.commons.compress.archivers.tar.TarArchiveEntry e =
        new org.apache.commons.compress.archivers.tar.TarArchiveEntry(name);
    e.setSize(size);
    e.setMode(0100644);
    e.setModTime(mtime * 1000);
    e.setUserId(0);
    e.setGroupId(0);
    e.setUserName("");
    e.setGroupName("");
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    // A fresh stream per header: putArchiveEntry writes the (PAX and) ustar header blocks at once; the entry's
    // content is placed by the caller, so the stream is dropped, not closed.
    @SuppressWarnings("resource")
    org.apache.commons.compress.archivers.tar.TarArchiveOutputStream out =
        new org.apache.commons.compress.archivers.tar.TarArchiveOutputStream(bytes, BLOCK,
            java.nio.charset.StandardCharsets.UTF_8.name());
    out.setLongFileMode(org.apache.commons.compress.archivers.tar.TarArchiveOutputStream.LONGFILE_POSIX);
    out.setBigNumberMode(org.apache.commons.compress.archivers.tar.TarArchiveOutputStream.BIGNUMBER_STAR);
    try {
      out.putArchiveEntry(e);
      out.flush();
    } catch (java.io.IOException ex) {
      throw new java.io.UncheckedIOException(ex);
    }
    return bytes.toByteArray();
  }
}
