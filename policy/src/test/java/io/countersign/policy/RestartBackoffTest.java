package io.countersign.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The managed OPA's restart backoff: doubling on quick exits, capped, reset by a stable run. */
class RestartBackoffTest {
  private static final Duration QUICK = Duration.ofMillis(50);

  @Test
  void quickExitsDoubleTheWaitUpToTheCapAndAStableRunResetsIt() {
    RestartBackoff b = new RestartBackoff(Duration.ofMillis(100), Duration.ofSeconds(5),
        Duration.ofSeconds(10));
    List<Long> waits = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      waits.add(b.after(QUICK).toMillis());
    }
    assertEquals(List.of(100L, 200L, 400L, 800L, 1600L, 3200L, 5000L, 5000L), waits);
    assertEquals(100, b.after(Duration.ofSeconds(10)).toMillis(), "ran for the stable time");
    assertEquals(200, b.after(Duration.ofSeconds(9)).toMillis(), "not quite stable: doubling again");
  }
}
