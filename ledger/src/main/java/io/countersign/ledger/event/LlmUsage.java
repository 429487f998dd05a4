package io.countersign.ledger.event;

/**
 * What an LLM call used and cost, read from the upstream's answer (its {@code usage}, for a stream
 * the final usage event) and priced with the decision's {@code llm_pricing} obligation.
 *
 * @param model the model the answer names, or the request's when the answer names none
 * @param inputTokens prompt / input tokens
 * @param outputTokens completion / output tokens
 * @param currency the price's currency (lower-case ISO 4217, e.g. {@code usd})
 * @param costMicros the cost in millionths of the currency
 */
public record LlmUsage(String model, long inputTokens, long outputTokens, String currency,
    long costMicros) {}
