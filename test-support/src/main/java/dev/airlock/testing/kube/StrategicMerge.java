package dev.airlock.testing.kube;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Iterator;
import java.util.Map;

/**
 * Applies a strategic-merge patch (what Helm sends to update built-in types) or a JSON merge patch the way the API
 * server does for the fields our charts use: maps merge, {@code null} deletes, lists of named objects merge by their
 * merge key ({@code containers} by {@code name}, {@code ports} by {@code containerPort}, ...), other lists are
 * replaced, and the {@code $setElementOrder}/{@code $retainKeys} directives are dropped.
 */
final class StrategicMerge {

  private static final Map<String, String> MERGE_KEYS = Map.ofEntries(
      Map.entry("containers", "name"), Map.entry("initContainers", "name"),
      Map.entry("ephemeralContainers", "name"), Map.entry("volumes", "name"), Map.entry("env", "name"),
      Map.entry("imagePullSecrets", "name"), Map.entry("volumeMounts", "mountPath"),
      Map.entry("ports", "containerPort"), Map.entry("volumeClaimTemplates", "name"));

  private StrategicMerge() {}

  static void apply(ObjectNode target, ObjectNode patch, boolean strategic) {
    if (strategic && "replace".equals(patch.path("$patch").asText())) {
      target.removeAll();
    }
    Iterator<Map.Entry<String, JsonNode>> fields = patch.fields();
    while (fields.hasNext()) {
      Map.Entry<String, JsonNode> f = fields.next();
      String key = f.getKey();
      JsonNode value = f.getValue();
      if (strategic && key.startsWith("$")) {
        if (key.startsWith("$deleteFromPrimitiveList/") && target.get(key.substring(25)) instanceof ArrayNode list) {
          for (JsonNode gone : value) {
            for (int i = list.size() - 1; i >= 0; i--) {
              if (list.get(i).equals(gone)) {
                list.remove(i);
              }
            }
          }
        }
        continue;
      }
      if (value.isNull()) {
        target.remove(key);
      } else if (value instanceof ObjectNode p && target.get(key) instanceof ObjectNode t) {
        apply(t, p, strategic);
      } else if (strategic && value instanceof ArrayNode p && target.get(key) instanceof ArrayNode t
          && MERGE_KEYS.containsKey(key)) {
        mergeList(t, p, MERGE_KEYS.get(key));
      } else {
        ObjectNode copy = value instanceof ObjectNode o ? o.deepCopy() : null;
        if (copy != null) {
          ObjectNode clean = copy.objectNode();
          apply(clean, copy, strategic);
          target.set(key, clean);
        } else {
          target.set(key, value.deepCopy());
        }
      }
    }
  }

  private static void mergeList(ArrayNode target, ArrayNode patch, String mergeKey) {
    for (JsonNode item : patch) {
      if (!(item instanceof ObjectNode p)) {
        continue;
      }
      JsonNode key = p.get(mergeKey);
      int found = -1;
      for (int i = 0; i < target.size(); i++) {
        if (key != null && key.equals(target.get(i).get(mergeKey))) {
          found = i;
        }
      }
      if ("delete".equals(p.path("$patch").asText())) {
        if (found >= 0) {
          target.remove(found);
        }
      } else if (found >= 0) {
        apply((ObjectNode) target.get(found), p, true);
      } else {
        ObjectNode added = p.objectNode();
        apply(added, p, true);
        target.add(added);
      }
    }
  }
}
