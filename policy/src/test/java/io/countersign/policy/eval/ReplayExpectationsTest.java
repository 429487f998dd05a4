package io.countersign.policy.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ReplayExpectationsTest {
  private static final DecisionSummary UPDATE = new DecisionSummary("allow", "low", "crm.deal_update");
  private static final DecisionSummary OVER = new DecisionSummary("hold", "high", "crm.deal_discount_over_limit");
  private static final DecisionSummary FAILED = new DecisionSummary("deny", "high", null);

  @Test
  void idsAndRuleMovesAreReadWithCommentsIgnored() {
    ReplayExpectations e = ReplayExpectations.parse("x.txt", """
        # the discount limit goes from 15 to 10
        ex-1   # this one too
        crm.deal_update -> crm.deal_discount_over_limit

        * -> billing.refund_small
        """);
    assertEquals(Set.of("ex-1"), e.exchangeIds());
    assertEquals(2, e.ruleMoves().size());
    assertEquals("exchange id", e.explain("ex-1", UPDATE, UPDATE));
    assertEquals("crm.deal_update -> crm.deal_discount_over_limit", e.explain("ex-9", UPDATE, OVER));
    assertNull(e.explain("ex-9", OVER, UPDATE));
    assertEquals("* -> billing.refund_small", e.explain("ex-9", OVER, new DecisionSummary("allow", "low", "billing.refund_small")));
  }

  @Test
  void aDashStandsForADecisionWithoutARule() {
    ReplayExpectations e = ReplayExpectations.parse("x", "- -> crm.deal_update\n");
    assertEquals("- -> crm.deal_update", e.explain("ex-1", FAILED, UPDATE));
    assertEquals(List.of(new ReplayExpectations.RuleMove("-", "crm.deal_update")), e.ruleMoves());
  }

  @Test
  void aMalformedLineIsRefusedNamingFileAndLine() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ReplayExpectations.parse("x.txt", "ex-1\ncrm.a -> \n"));
    assertTrue(e.getMessage().startsWith("x.txt:2:"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> ReplayExpectations.parse("x.txt", "two words\n"));
    assertTrue(e.getMessage().startsWith("x.txt:1:"), e.getMessage());
  }

  @Test
  void noneExpectsNothing() {
    assertNull(ReplayExpectations.none().explain("ex-1", UPDATE, OVER));
  }
}
