package dev.airlock.testing.kube;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;

/**
 * Decodes the Kubernetes protobuf encoding of a {@code v1.Secret} (how Helm's client writes its release records) into
 * the JSON the mock server stores. Only the fields Helm sets are read; others are skipped by wire type.
 */
final class ProtobufSecrets {

  private static final byte[] MAGIC = {'k', '8', 's', 0};

  private ProtobufSecrets() {}

  static boolean isProtobuf(byte[] body) {
    return body.length > 4 && Arrays.equals(Arrays.copyOf(body, 4), MAGIC);
  }

  /** The Secret in {@code body} (the {@code k8s\0} envelope around a {@code runtime.Unknown}) as JSON. */
  static ObjectNode toJson(byte[] body, ObjectMapper json) {
    Reader unknown = new Reader(body, 4, body.length);
    byte[] raw = null;
    while (unknown.more()) {
      int tag = unknown.tag();
      if (tag >>> 3 == 2) {
        raw = unknown.bytes();
      } else {
        unknown.skip(tag);
      }
    }
    if (raw == null) {
      throw new IllegalArgumentException("protobuf envelope without a raw object");
    }
    ObjectNode secret = json.createObjectNode().put("apiVersion", "v1").put("kind", "Secret");
    ObjectNode data = json.createObjectNode();
    Reader r = new Reader(raw, 0, raw.length);
    while (r.more()) {
      int tag = r.tag();
      switch (tag >>> 3) {
        case 1 -> secret.set("metadata", metadata(r.reader(), json));
        case 2 -> {
          String[] kv = r.reader().mapEntry(true);
          data.put(kv[0], kv[1]);
        }
        case 3 -> secret.put("type", r.string());
        case 5 -> secret.put("immutable", r.varint() != 0);
        default -> r.skip(tag);
      }
    }
    secret.set("data", data);
    return secret;
  }

  private static ObjectNode metadata(Reader r, ObjectMapper json) {
    ObjectNode meta = json.createObjectNode();
    ObjectNode labels = json.createObjectNode();
    ObjectNode annotations = json.createObjectNode();
    while (r.more()) {
      int tag = r.tag();
      switch (tag >>> 3) {
        case 1 -> meta.put("name", r.string());
        case 2 -> meta.put("generateName", r.string());
        case 3 -> meta.put("namespace", r.string());
        case 5 -> meta.put("uid", r.string());
        case 6 -> meta.put("resourceVersion", r.string());
        case 8 -> {
          Reader time = r.reader();
          long seconds = 0;
          while (time.more()) {
            int t = time.tag();
            if (t >>> 3 == 1) {
              seconds = time.varint();
            } else {
              time.skip(t);
            }
          }
          if (seconds != 0) {
            meta.put("creationTimestamp", Instant.ofEpochSecond(seconds).toString());
          }
        }
        case 11 -> {
          String[] kv = r.reader().mapEntry(false);
          labels.put(kv[0], kv[1]);
        }
        case 12 -> {
          String[] kv = r.reader().mapEntry(false);
          annotations.put(kv[0], kv[1]);
        }
        default -> r.skip(tag);
      }
    }
    if (!labels.isEmpty()) {
      meta.set("labels", labels);
    }
    if (!annotations.isEmpty()) {
      meta.set("annotations", annotations);
    }
    return meta;
  }

  /** A protobuf wire-format reader over a slice. */
  private static final class Reader {
    private final byte[] buf;
    private int pos;
    private final int end;

    Reader(byte[] buf, int pos, int end) {
      this.buf = buf;
      this.pos = pos;
      this.end = end;
    }

    boolean more() {
      return pos < end;
    }

    int tag() {
      return (int) varint();
    }

    long varint() {
      long value = 0;
      for (int shift = 0; shift < 64; shift += 7) {
        byte b = buf[pos++];
        value |= (long) (b & 0x7f) << shift;
        if (b >= 0) {
          return value;
        }
      }
      throw new IllegalArgumentException("malformed varint");
    }

    byte[] bytes() {
      int n = (int) varint();
      byte[] out = Arrays.copyOfRange(buf, pos, pos + n);
      pos += n;
      return out;
    }

    String string() {
      return new String(bytes(), StandardCharsets.UTF_8);
    }

    Reader reader() {
      int n = (int) varint();
      Reader sub = new Reader(buf, pos, pos + n);
      pos += n;
      return sub;
    }

    /** A map entry: key (field 1), value (field 2), the value base64-encoded when it is bytes. */
    String[] mapEntry(boolean base64Value) {
      String key = "";
      String value = "";
      while (more()) {
        int t = tag();
        if (t >>> 3 == 1) {
          key = string();
        } else if (t >>> 3 == 2) {
          byte[] v = bytes();
          value = base64Value ? Base64.getEncoder().encodeToString(v) : new String(v, StandardCharsets.UTF_8);
        } else {
          skip(t);
        }
      }
      return new String[] {key, value};
    }

    void skip(int tag) {
      switch (tag & 7) {
        case 0 -> varint();
        case 1 -> pos += 8;
        case 2 -> {
          int length = (int) varint();
          pos += length;
        }
        case 5 -> pos += 4;
        default -> throw new IllegalArgumentException("unsupported wire type " + (tag & 7));
      }
    }
  }
}
