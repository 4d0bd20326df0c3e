package dev.airlock.bundle.format;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;

/**
 * The bytes of a bundle, read by position only: one file, or a set of parts read as if they were one file
 * ({@link BundleParts}). Every reader of the format goes through this, so parts need no reader of their own.
 */
public interface BundleBytes extends AutoCloseable {

  /** The bundle's length: the file's, or the parts' sum. */
  long size() throws IOException;

  /**
   * Reads into {@code dst} from {@code position}, as {@link FileChannel#read(ByteBuffer, long)}: possibly fewer
   * bytes than remain (a read stops at the end of a part), -1 at the end.
   */
  int read(ByteBuffer dst, long position) throws IOException;

  /** Copies up to {@code count} bytes from {@code position}; returns how many (the kernel copies where it can). */
  long transferTo(long position, long count, WritableByteChannel target) throws IOException;

  @Override
  void close() throws IOException;

  /** One whole file. */
  static BundleBytes of(FileChannel channel) {
    return new BundleBytes() {
      @Override
      public long size() throws IOException {
        return channel.size();
      }

      @Override
      public int read(ByteBuffer dst, long position) throws IOException {
        return channel.read(dst, position);
      }

      @Override
      public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
        return channel.transferTo(position, count, target);
      }

      @Override
      public void close() throws IOException {
        channel.close();
      }
    };
  }
}
