package dev.airlock.bundle.format;

import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.oci.Digest;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** The checksum list: one {@code sha256:<hex>  <path>} line per entry, in archive order. */
public final class Checksums {

  private final Map<String, Digest> byPath;

  public Checksums(Map<String, Digest> byPath) {
    this.byPath = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(byPath));
  }

  public Map<String, Digest> byPath() {
    return byPath;
  }

  public byte[] toBytes() {
    StringBuilder sb = new StringBuilder();
    byPath.forEach((path, digest) -> sb.append(digest).append("  ").append(path).append('\n'));
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }

  public static Checksums parse(byte[] bytes, String source) {
    Map<String, Digest> map = new LinkedHashMap<>();
    String[] lines = new String(bytes, StandardCharsets.UTF_8).split("\n");
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i];
      if (line.isEmpty()) {
        continue;
      }
      int sep = line.indexOf("  ");
      if (sep < 0 || !Digest.isDigest(line.substring(0, sep))) {
        throw new AirlockException(Kind.VERIFICATION, source + " line " + (i + 1) + " is not 'sha256:<hex>  <path>'",
            "copy the bundle again from the vendor's original");
      }
      String path = line.substring(sep + 2);
      if (map.put(path, Digest.parse(line.substring(0, sep))) != null) {
        throw new AirlockException(Kind.VERIFICATION, source + " lists " + path + " twice", null);
      }
    }
    return new Checksums(map);
  }
}
