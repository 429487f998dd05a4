package io.countersign.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class InstantTextTest {

  @Test
  void writesWhatInstantToStringWrites() {
    long[][] cases = {
      {0, 0}, {0, 1}, {1_795_610_554L, 0}, {1_795_610_554L, 123_000_000}, {1_795_610_554L, 123_456_000},
      {1_795_610_554L, 123_456_789}, {1_795_610_554L, 1_000}, {1_795_610_554L, 999_999_999},
      {-1, 500_000_000}, {253_402_300_799L, 7}, {253_402_300_800L, 0}, {-62_167_219_200L, 0},
    };
    for (long[] c : cases) {
      Instant t = Instant.ofEpochSecond(c[0], c[1]);
      assertEquals(t.toString(), InstantText.format(t));
    }
    SplittableRandom random = new SplittableRandom(7);
    for (int i = 0; i < 20_000; i++) {
      long second = 1_700_000_000L + random.nextInt(3) + (i % 50 == 0 ? random.nextInt(1 << 30) : 0);
      int nano = switch (i % 4) {
        case 0 -> random.nextInt(1000) * 1_000_000;
        case 1 -> random.nextInt(1_000_000) * 1_000;
        case 2 -> random.nextInt(1_000_000_000);
        default -> 0;
      };
      Instant t = Instant.ofEpochSecond(second, nano);
      assertEquals(t.toString(), InstantText.format(t));
    }
  }
}
