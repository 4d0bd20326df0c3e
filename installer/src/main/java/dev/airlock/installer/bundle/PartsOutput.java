package dev.airlock.installer.bundle;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.airlock.bundle.BundleSplitter;
import dev.airlock.bundle.format.PartList;
import dev.airlock.installer.cli.Console;

/** What split and build --part-size print. */
final class PartsOutput {

  private PartsOutput() {}

  static String text(BundleSplitter.Result r) {
    PartList l = r.list();
    StringBuilder sb = new StringBuilder(String.format("split %s (%s) into %d parts of at most %s, in %s:%n",
        l.bundle(), Console.bytes(l.size()), l.parts().size(), Console.bytes(l.partSize()),
        r.listFile().getParent()));
    for (PartList.Part p : l.parts()) {
      sb.append(String.format("  %s  %s  %s%n", p.name(), Console.bytes(p.size()), p.sha256()));
    }
    sb.append("  ").append(r.listFile().getFileName()).append("  the signed part list: carry it with the parts");
    return sb.toString();
  }

  static ObjectNode json(BundleSplitter.Result r) {
    PartList l = r.list();
    ObjectNode o = Console.JSON.createObjectNode().put("bundle", l.bundle()).put("size", l.size())
        .put("partSize", l.partSize()).put("partList", r.listFile().toString());
    ArrayNode parts = o.putArray("parts");
    for (PartList.Part p : l.parts()) {
      parts.addObject().put("file", r.listFile().resolveSibling(p.name()).toString()).put("size", p.size())
          .put("sha256", p.sha256());
    }
    return o;
  }
}
