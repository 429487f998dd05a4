package io.countersign.proxy.exchange;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.countersign.ledger.event.LlmUsage;
import io.countersign.policy.Decision;
import io.countersign.policy.PolicyAction;
import io.countersign.policy.RiskClass;
import java.util.List;
import org.junit.jupiter.api.Test;

class LlmPricingTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final LlmPricing GPT4O = new LlmPricing("usd", 2.5, 10);

  private static JsonNode json(String s) throws Exception {
    return JSON.readTree(s);
  }

  private static Decision withObligations(String obligations) throws Exception {
    return new Decision(RiskClass.LOW, PolicyAction.ALLOW, List.of(), "llm.chat", json(obligations),
        "r1", null);
  }

  @Test
  void chatCompletionsUsageIsPriced() throws Exception {
    LlmUsage u = GPT4O.price(json("{\"model\":\"gpt-4o-2024-08-06\",\"usage\":{\"prompt_tokens\":1200,"
        + "\"completion_tokens\":300,\"total_tokens\":1500}}"), "gpt-4o");
    assertEquals(new LlmUsage("gpt-4o-2024-08-06", 1200, 300, "usd", 6000), u);
  }

  @Test
  void responsesUsageAndItsStreamsCompletedEventArePriced() throws Exception {
    LlmUsage plain = GPT4O.price(json("{\"usage\":{\"input_tokens\":10,\"output_tokens\":20}}"), "gpt-4o");
    assertEquals(new LlmUsage("gpt-4o", 10, 20, "usd", 225), plain);
    LlmUsage event = GPT4O.price(json("{\"type\":\"response.completed\",\"response\":{\"model\":\"gpt-4o\","
        + "\"usage\":{\"input_tokens\":10,\"output_tokens\":20}}}"), null);
    assertEquals(plain, event);
  }

  @Test
  void anAnswerWithoutUsageIsNotPriced() throws Exception {
    assertNull(GPT4O.price(json("{\"choices\":[],\"usage\":null}"), "gpt-4o"));
    assertNull(GPT4O.price(json("{\"usage\":{\"other\":1}}"), "gpt-4o"));
    assertNull(GPT4O.price(null, "gpt-4o"));
    assertTrue(!LlmPricing.mayHoldUsage("{\"usage\":null}") && LlmPricing.mayHoldUsage("{\"usage\":{}}"));
  }

  @Test
  void theObligationIsReadOrRefusedWithItsReason() throws Exception {
    assertEquals(GPT4O, LlmPricing.of(withObligations(
        "{\"llm_pricing\":{\"currency\":\"usd\",\"input_per_mtok\":2.5,\"output_per_mtok\":10}}")));
    assertNull(LlmPricing.of(withObligations("{\"cost\":1}")));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LlmPricing.of(
        withObligations("{\"llm_pricing\":{\"currency\":\"USD\",\"input_per_mtok\":-1}}")));
    assertTrue(e.getMessage().contains("currency"), e.getMessage());
  }
}
