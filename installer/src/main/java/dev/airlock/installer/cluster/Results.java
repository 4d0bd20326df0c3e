package dev.airlock.installer.cluster;

import dev.airlock.deploy.OperationResult;
import dev.airlock.deploy.State;

/** The text form of results for people (the JSON form is the record itself). */
final class Results {

  private Results() {}

  static String text(OperationResult r) {
    if (r.dryRun() && r.plan() != null) {
      return "dry run, nothing changed. Plan: " + r.plan().text();
    }
    StringBuilder sb = new StringBuilder(r.summary());
    if (r.installation() != null && r.changed()) {
      for (State.Component c : r.installation().components()) {
        sb.append("\n  ").append(c.namespace()).append('/').append(c.release()).append("  revision ")
            .append(c.revision()).append("  chart ").append(c.chart()).append(' ').append(c.chartVersion());
      }
    }
    return sb.toString();
  }
}
