package dev.airlock.kube;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The audit trail: one JSON event per action (who, what, when, from where, the result), written to stdout for the
 * cluster's log pipeline and appended to a tamper-evident log in the cluster. Each event carries the hash of the one
 * before it and its own ({@code sha256(prev + event)}), so editing, removing or reordering any stored event breaks
 * the chain at that event ({@link #verify}). Events live in ConfigMaps of at most {@value #SEGMENT_EVENTS} events
 * ({@code airlock-audit-00000001}, …); appends use optimistic concurrency, so several writers (two server replicas,
 * the CLI) keep one chain; segments older than the retention are deleted whole, and the chain then starts at the
 * first kept segment's recorded predecessor hash.
 */
public final class AuditLog {

  public static final String LABEL = "airlock.dev/audit";
  public static final String PREFIX = "airlock-audit-";
  static final String PREV = "airlock.dev/prev-hash";
  static final String EVENTS = "events.jsonl";
  public static final int SEGMENT_EVENTS = 200;
  static final String GENESIS = "0".repeat(64);
  private static final ObjectMapper JSON = new ObjectMapper().configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS,
      true);

  /** One event as the caller gives it. */
  public record Event(String actor, String action, String target, String result, String source,
      Map<String, Object> details) {
    public Event {
      details = details == null ? Map.of() : Map.copyOf(details);
    }

    public static Event of(String actor, String action, String target, String result, String source) {
      return new Event(actor, action, target, result, source, Map.of());
    }

    public Event with(String key, Object value) {
      Map<String, Object> d = new TreeMap<>(details);
      if (value != null) {
        d.put(key, value);
      }
      return new Event(actor, action, target, result, source, d);
    }
  }

  /** What {@link #verify} found: the events checked, and the first broken link or null. */
  public record Verification(int events, int segments, String broken) {
    public boolean intact() {
      return broken == null;
    }
  }

  private final KubernetesClient client;
  private final String namespace;
  private final Clock clock;
  private final PrintStream out;
  private ConfigMap tail; // the last segment as this process wrote it, or null: read the segments
  private final List<Pending> queue = new ArrayList<>();

  /** @param out where each event is also printed as a JSON line (the server's stdout), or null */
  public AuditLog(KubernetesClient client, String namespace, Clock clock, PrintStream out) {
    this.client = client;
    this.namespace = namespace;
    this.clock = clock;
    this.out = out;
  }

  /** An event waiting for the writer. Its fields are read and written under the log's monitor. */
  private static final class Pending {
    final Event event;
    String line;
    RuntimeException error;
    boolean done;

    Pending(Event event) {
      this.event = event;
    }
  }

  /**
   * Appends {@code e} to the chain (and prints it) and returns the stored line once it is in the cluster. Concurrent
   * callers in one process are group-committed: whoever holds the writer's turn appends every event queued so far in
   * one update, starting from the last segment this process wrote (its resourceVersion makes a stale copy fail, and
   * then the segments are read again). So an append costs one update, shared, not a read of the whole log.
   */
  public String record(Event e) {
    Pending mine = new Pending(e);
    synchronized (queue) {
      queue.add(mine);
    }
    synchronized (this) {
      if (!mine.done) {
        List<Pending> batch;
        synchronized (queue) {
          batch = new ArrayList<>(queue);
          queue.clear();
        }
        try {
          List<String> lines = append(batch.stream().map(p -> p.event).toList());
          for (int i = 0; i < batch.size(); i++) {
            batch.get(i).line = lines.get(i);
          }
        } catch (RuntimeException ex) {
          batch.forEach(p -> p.error = ex);
        }
        batch.forEach(p -> p.done = true);
      }
      if (mine.error != null) {
        throw mine.error;
      }
      return mine.line;
    }
  }

  /** Appends the events in order, as few updates as the segment size allows; returns their lines. */
  private List<String> append(List<Event> events) {
    List<String> written = new ArrayList<>();
    int attempts = 0;
    while (written.size() < events.size()) {
      if (++attempts > 20) {
        throw new AirlockException(Kind.REMOTE, "cannot append to the audit log: too many concurrent writers",
            "try again");
      }
      ConfigMap last = tail;
      if (last == null) {
        List<ConfigMap> segments = segments();
        last = segments.isEmpty() ? null : segments.get(segments.size() - 1);
      }
      List<String> lines = last == null ? List.of() : lines(last);
      String prev = lines.isEmpty() ? (last == null ? GENESIS : prevOf(last)) : hashOf(lines.get(lines.size() - 1));
      long seq = lines.isEmpty() ? 1 : seqOf(lines.get(lines.size() - 1)) + 1;
      boolean fresh = last == null || lines.size() >= SEGMENT_EVENTS;
      int room = fresh ? SEGMENT_EVENTS : SEGMENT_EVENTS - lines.size();
      String segmentPrev = prev;
      List<String> adding = new ArrayList<>();
      for (Event e : events.subList(written.size(), Math.min(events.size(), written.size() + room))) {
        String line = line(e, seq++, prev);
        prev = hashOf(line);
        adding.add(line);
      }
      String text = String.join("\n", adding) + "\n";
      try {
        if (fresh) {
          int index = last == null ? 1 : index(last) + 1;
          tail = null;
          tail = client.configMaps().inNamespace(namespace).resource(new ConfigMapBuilder().withNewMetadata()
              .withName(PREFIX + String.format("%08d", index)).withNamespace(namespace)
              .addToLabels(LABEL, "true").addToLabels(KubeTarget.LABEL_MANAGED_BY, KubeTarget.MANAGER)
              .addToAnnotations(PREV, segmentPrev).endMetadata().withData(new java.util.HashMap<>(Map.of(EVENTS,
              text))).build()).create();
        } else {
          ConfigMap next = new ConfigMapBuilder(last).build();
          next.getData().put(EVENTS, String.join("\n", lines) + "\n" + text);
          tail = null;
          tail = client.configMaps().inNamespace(namespace).resource(next).update(); // fails on a concurrent append
        }
      } catch (KubernetesClientException ex) {
        if (ex.getCode() == 404 && ex.getMessage() != null && ex.getMessage().contains("namespaces")) {
          throw new AirlockException(Kind.REMOTE, "cannot write the audit log: namespace " + namespace
              + " does not exist", "install airlock first, or pass its namespace", ex);
        }
        if (ex.getCode() != 409) {
          throw new AirlockException(Kind.REMOTE, "cannot write the audit log: " + ex.getMessage(),
              "check the cluster and the rights on ConfigMaps in " + namespace, ex);
        }
        continue; // another writer appended first: read again
      }
      if (out != null) {
        adding.forEach(out::println);
        out.flush();
      }
      written.addAll(adding);
    }
    return written;
  }

  private String line(Event e, long seq, String prev) {
    ObjectNode n = JSON.createObjectNode();
    n.put("seq", seq);
    n.put("time", clock.instant().toString());
    n.put("actor", e.actor());
    n.put("action", e.action());
    n.put("target", e.target());
    n.put("result", e.result());
    n.put("source", e.source());
    n.set("details", JSON.valueToTree(new TreeMap<>(e.details())));
    n.put("prev", prev);
    n.put("hash", hash(prev, canonical(n)));
    try {
      return JSON.writeValueAsString(n);
    } catch (JsonProcessingException ex) {
      throw new IllegalStateException(ex);
    }
  }

  /** The event without its {@code hash}, as hashed. */
  private static String canonical(ObjectNode n) {
    ObjectNode copy = n.deepCopy();
    copy.remove("hash");
    try {
      return JSON.writeValueAsString(JSON.treeToValue(copy, Object.class));
    } catch (JsonProcessingException ex) {
      throw new IllegalStateException(ex);
    }
  }

  static String hash(String prev, String canonical) {
    try {
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      d.update(prev.getBytes(StandardCharsets.US_ASCII));
      d.update(canonical.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d.digest());
    } catch (NoSuchAlgorithmException ex) {
      throw new IllegalStateException(ex);
    }
  }

  /** The stored events, oldest first, from {@code since} on. */
  public List<Map<String, Object>> export(Instant since) {
    return export(since, segments());
  }

  /** The stored events from {@code since} on and the chain's check, from one read of the segments. */
  public record Snapshot(List<Map<String, Object>> events, Verification verification) {}

  /**
   * Like {@link #export} and {@link #verify} together, from one read of the segments. The parsed events and the
   * chain's check are kept until a segment's resourceVersion changes (any write to a segment changes it, so an edited
   * event is never missed); a page view then costs one list and no hashing.
   */
  public Snapshot read(Instant since) {
    List<ConfigMap> segments = segments();
    List<String> versions = segments.stream().map(c -> c.getMetadata().getName() + "@"
        + c.getMetadata().getResourceVersion()).toList();
    Read r = lastRead;
    if (r == null || !r.versions().equals(versions)) {
      r = new Read(versions, List.copyOf(export(null, segments)), verify(segments));
      lastRead = r;
    }
    List<Map<String, Object>> events = since == null ? r.events() : r.events().stream()
        .filter(e -> !Instant.parse(String.valueOf(e.get("time"))).isBefore(since)).toList();
    return new Snapshot(events, r.verification());
  }

  /** The last {@link #read}: the segments' names and versions, their events, the chain's check. */
  private record Read(List<String> versions, List<Map<String, Object>> events, Verification verification) {}

  private volatile Read lastRead;

  private List<Map<String, Object>> export(Instant since, List<ConfigMap> segments) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (ConfigMap cm : segments) {
      for (String line : lines(cm)) {
        try {
          @SuppressWarnings("unchecked")
          Map<String, Object> e = JSON.readValue(line, Map.class);
          if (since == null || !Instant.parse(String.valueOf(e.get("time"))).isBefore(since)) {
            out.add(e);
          }
        } catch (JsonProcessingException | RuntimeException ex) {
          throw new AirlockException(Kind.VERIFICATION, "audit segment " + cm.getMetadata().getName() + " holds a "
              + "line that is not an event", "run airlock audit verify to find where the log was changed", ex);
        }
      }
    }
    return out;
  }

  /**
   * Checks a stretch of the chain as exported (events in order, from any point): each event's hash, each link to
   * the one before and the sequence numbers; the first event's own link is taken as given.
   */
  public static Verification verifyEvents(List<Map<String, Object>> events) {
    String prev = null;
    long seq = -1;
    int count = 0;
    for (Map<String, Object> e : events) {
      ObjectNode n = JSON.valueToTree(e);
      long s = n.path("seq").asLong(-1);
      if (seq >= 0 && s != seq + 1) {
        return new Verification(count, 0, "event " + s + " follows " + seq + " (an event was removed or reordered)");
      }
      if (prev != null && !prev.equals(n.path("prev").asText())) {
        return new Verification(count, 0, "event " + s + " does not link to the event before it");
      }
      String expected = hash(n.path("prev").asText(), canonical(n));
      if (!expected.equals(n.path("hash").asText())) {
        return new Verification(count, 0, "event " + s + " was changed after it was written (its hash does not "
            + "match its content)");
      }
      prev = expected;
      seq = s;
      count++;
    }
    return new Verification(count, 0, null);
  }

  /** Checks the chain: each event's hash, each link to the one before, and the sequence numbers. */
  public Verification verify() {
    return verify(segments());
  }

  private Verification verify(List<ConfigMap> segments) {
    String prev = null;
    long seq = -1;
    int count = 0;
    for (ConfigMap cm : segments) {
      String name = cm.getMetadata().getName();
      String recorded = prevOf(cm);
      if (prev != null && !prev.equals(recorded)) {
        return new Verification(count, segments.size(), name + ": the segment does not continue the one before "
            + "(a segment was removed or replaced)");
      }
      prev = recorded;
      for (String line : lines(cm)) {
        ObjectNode n;
        try {
          n = (ObjectNode) JSON.readTree(line);
        } catch (JsonProcessingException | ClassCastException ex) {
          return new Verification(count, segments.size(), name + ": event after seq " + seq + " is not valid JSON");
        }
        long s = n.path("seq").asLong(-1);
        if (seq >= 0 && s != seq + 1) {
          return new Verification(count, segments.size(), name + ": event " + s + " follows " + seq
              + " (an event was removed or reordered)");
        }
        if (!prev.equals(n.path("prev").asText())) {
          return new Verification(count, segments.size(), name + ": event " + s + " does not link to the event "
              + "before it (an event was removed, reordered or edited)");
        }
        String expected = hash(prev, canonical(n));
        if (!expected.equals(n.path("hash").asText())) {
          return new Verification(count, segments.size(), name + ": event " + s + " was changed after it was "
              + "written (its hash does not match its content)");
        }
        prev = expected;
        seq = s;
        count++;
      }
    }
    return new Verification(count, segments.size(), null);
  }

  /** Deletes segments whose newest event is older than {@code retention}; the last segment always stays. */
  public int expire(Duration retention) {
    List<ConfigMap> segments = segments();
    Instant cutoff = clock.instant().minus(retention);
    int deleted = 0;
    for (int i = 0; i < segments.size() - 1; i++) {
      List<String> lines = lines(segments.get(i));
      if (lines.isEmpty()) {
        continue;
      }
      try {
        Instant newest = Instant.parse(JSON.readTree(lines.get(lines.size() - 1)).path("time").asText());
        if (newest.isBefore(cutoff)) {
          client.configMaps().inNamespace(namespace).withName(segments.get(i).getMetadata().getName()).delete();
          deleted++;
        } else {
          break;
        }
      } catch (JsonProcessingException | RuntimeException ex) {
        break; // leave a damaged segment for verify to name
      }
    }
    return deleted;
  }

  private List<ConfigMap> segments() {
    List<ConfigMap> list = new ArrayList<>(client.configMaps().inNamespace(namespace).withLabel(LABEL, "true").list()
        .getItems());
    list.removeIf(c -> !c.getMetadata().getName().startsWith(PREFIX));
    list.sort(Comparator.comparingInt(AuditLog::index));
    return list;
  }

  private static int index(ConfigMap c) {
    try {
      return Integer.parseInt(c.getMetadata().getName().substring(PREFIX.length()));
    } catch (NumberFormatException e) {
      return Integer.MAX_VALUE;
    }
  }

  private static List<String> lines(ConfigMap c) {
    String text = c.getData() == null ? null : c.getData().get(EVENTS);
    if (text == null || text.isBlank()) {
      return List.of();
    }
    return text.lines().filter(l -> !l.isBlank()).toList();
  }

  private static String prevOf(ConfigMap c) {
    Map<String, String> a = c.getMetadata().getAnnotations();
    return a == null || a.get(PREV) == null ? GENESIS : a.get(PREV);
  }

  private static String hashOf(String line) {
    try {
      return JSON.readTree(line).path("hash").asText();
    } catch (JsonProcessingException e) {
      throw new AirlockException(Kind.VERIFICATION, "the audit log's last event is not valid JSON",
          "run airlock audit verify", e);
    }
  }

  private static long seqOf(String line) {
    try {
      return JSON.readTree(line).path("seq").asLong();
    } catch (JsonProcessingException e) {
      throw new AirlockException(Kind.VERIFICATION, "the audit log's last event is not valid JSON",
          "run airlock audit verify", e);
    }
  }
}
