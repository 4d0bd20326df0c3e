package dev.airlock.installer.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.airlock.event.Event;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** What the live operation page's log says of a phase's progress. */
class ConsoleRunLogTest {

  @Test
  void aSizedPhase_isLoggedAtEachTenth_once() {
    ConsoleOperations.Run run = new ConsoleOperations.Run("upgrade", "alice", "Upgrade", Instant.now(), null);
    run.on(new Event.PhaseStarted("verify", "Verifying", 100L << 20));
    for (int i = 0; i < 100; i++) {
      run.on(new Event.Progress("verify", 1L << 20));
    }
    assertThat(run.lines()).filteredOn(l -> l.startsWith("  verify: ")).containsExactly("  verify: 10% of 100 MiB",
        "  verify: 20% of 100 MiB", "  verify: 30% of 100 MiB", "  verify: 40% of 100 MiB", "  verify: 50% of 100 MiB",
        "  verify: 60% of 100 MiB", "  verify: 70% of 100 MiB", "  verify: 80% of 100 MiB", "  verify: 90% of 100 MiB",
        "  verify: 100% of 100 MiB");
  }

  @Test
  void aPhaseOfUnknownSize_isLoggedEvery64MiB_andARestartedTransferDoesNotRepeatLines() {
    ConsoleOperations.Run run = new ConsoleOperations.Run("upgrade", "alice", "Upgrade", Instant.now(), null);
    run.on(new Event.PhaseStarted("push", "push 3 blobs", -1));
    run.on(new Event.Progress("push", 100L << 20));
    run.on(new Event.Progress("push", -(40L << 20))); // a chunk sent again
    run.on(new Event.Progress("push", 40L << 20));
    run.on(new Event.Progress("push", 100L << 20));
    assertThat(run.lines()).containsExactly("▶ push 3 blobs", "  push: 100 MiB sent", "  push: 200 MiB sent");
  }
}
