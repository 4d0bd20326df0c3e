package dev.airlock.bundle.format;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;

/** Rewrites a bundle entry by entry, to make the damaged and hostile files the verifier must refuse. */
final class TarSurgery {

  /** One tar member: name, content, type flag and link target. */
  record Item(String name, byte[] content, byte type, String link) {
    static Item file(String name, byte[] content) {
      return new Item(name, content, (byte) '0', "");
    }
  }

  private TarSurgery() {}

  static List<Item> read(Path bundle) {
    try (BundleFile f = BundleFile.open(bundle)) {
      List<Item> items = new ArrayList<>();
      for (TarIndex.Entry e : f.index().entries()) {
        items.add(Item.file(e.name(), f.readAll(e)));
      }
      return items;
    }
  }

  static void rewrite(Path from, Path to, UnaryOperator<List<Item>> change) throws IOException {
    write(to, change.apply(new ArrayList<>(read(from))));
  }

  /** A ustar header with the name's first 100 bytes as they are, mode 0644, owner 0:0, time 0. */
  static byte[] rawUstar(String name, long size) {
    byte[] h = new byte[512];
    byte[] n = name.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    System.arraycopy(n, 0, h, 0, Math.min(100, n.length));
    octal(h, 100, 8, 0644);
    octal(h, 108, 8, 0);
    octal(h, 116, 8, 0);
    octal(h, 124, 12, size);
    octal(h, 136, 12, 0);
    h[156] = '0';
    byte[] magic = "ustar\00000".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    System.arraycopy(magic, 0, h, 257, magic.length);
    return h;
  }

  private static void octal(byte[] h, int off, int len, long value) {
    String s = String.format("%0" + (len - 1) + "o", value);
    System.arraycopy(s.getBytes(java.nio.charset.StandardCharsets.US_ASCII), 0, h, off, len - 1);
  }

  static void write(Path to, List<Item> items) throws IOException {
    try (FileChannel ch = FileChannel.open(to, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      for (Item i : items) {
        // Forged by hand: the product's encoder (Commons Compress) normalizes names, and these tests need the
        // malformed ones (absolute paths, traversal) it would never write.
        byte[] h = rawUstar(i.name(), i.content().length);
        h[156] = i.type();
        byte[] link = i.link().getBytes();
        System.arraycopy(link, 0, h, 157, link.length);
        Arrays.fill(h, 148, 156, (byte) ' ');
        long sum = 0;
        for (byte b : h) {
          sum += b & 0xff;
        }
        byte[] s = String.format("%06o", sum).getBytes();
        System.arraycopy(s, 0, h, 148, 6);
        h[154] = 0;
        ch.write(ByteBuffer.wrap(h));
        ch.write(ByteBuffer.wrap(i.content()));
        int pad = (512 - i.content().length % 512) % 512;
        ch.write(ByteBuffer.allocate(pad));
      }
      ch.write(ByteBuffer.allocate(1024));
    }
  }
}
