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

  static void write(Path to, List<Item> items) throws IOException {
    try (FileChannel ch = FileChannel.open(to, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      for (Item i : items) {
        byte[] h = TarHeader.header(i.name().length() > 100 ? "x" : i.name(), i.content().length, 0);
        if (i.name().length() > 100) {
          byte[] n = i.name().getBytes();
          Arrays.fill(h, 0, 100, (byte) 0);
          System.arraycopy(n, 0, h, 0, Math.min(100, n.length));
        }
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
