package io.countersign.proxy.exchange;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.countersign.ledger.event.LlmUsage;
import io.countersign.policy.Decision;
import io.countersign.proxy.canonical.CanonicalRequest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import java.io.IOException;
import java.util.regex.Pattern;

/**
 * Prices an LLM call from its answer. The policy names the price: a decision with obligation
 * {@code llm_pricing: {"currency": "usd", "input_per_mtok": 2.5, "output_per_mtok": 10}} (per
 * million tokens, from a table in policy data) asks the proxy to read the answer's token usage and
 * charge it to the caller's money counters. Usage is read as OpenAI-compatible APIs write it: the
 * chat completions API's {@code usage.prompt_tokens} / {@code completion_tokens}, the responses
 * API's {@code usage.input_tokens} / {@code output_tokens}, and in a stream the final chunk that
 * carries {@code usage} (chat, with {@code stream_options.include_usage}) or the {@code
 * response.completed} event's {@code response.usage} (responses).
 *
 * @param currency lower-case ISO 4217 code
 * @param inputPerMtok price of a million input tokens
 * @param outputPerMtok price of a million output tokens
 */
record LlmPricing(String currency, double inputPerMtok, double outputPerMtok) {
  private static final Pattern CURRENCY = Pattern.compile("[a-z]{3}");
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * The pricing a decision asks for, or null when it asks for none.
   *
   * @throws IllegalArgumentException when the obligation is there but unusable
   */
  static LlmPricing of(Decision d) {
    JsonNode o = d.obligation("llm_pricing");
    if (o.isMissingNode() || o.isNull()) {
      return null;
    }
    String currency = o.path("currency").asText("");
    JsonNode in = o.path("input_per_mtok");
    JsonNode out = o.path("output_per_mtok");
    if (!CURRENCY.matcher(currency).matches() || !in.isNumber() || !out.isNumber()
        || in.asDouble() < 0 || out.asDouble() < 0) {
      throw new IllegalArgumentException("llm_pricing needs currency (3 lower-case letters) and"
          + " non-negative input_per_mtok and output_per_mtok, not " + o);
    }
    return new LlmPricing(currency, in.asDouble(), out.asDouble());
  }

  /**
   * The usage an answer (or a stream's usage event) reports, priced; null when it reports none.
   *
   * @param answer the answer's JSON body, or the data of a stream's usage event
   * @param requestModel the model the request asked for, or null
   */
  LlmUsage price(JsonNode answer, String requestModel) {
    if (answer == null) {
      return null;
    }
    JsonNode holder = answer.path("usage").isObject() ? answer : answer.path("response");
    JsonNode usage = holder.path("usage");
    if (!usage.isObject()) {
      return null;
    }
    long input = tokens(usage, "prompt_tokens", "input_tokens");
    long output = tokens(usage, "completion_tokens", "output_tokens");
    if (input < 0 && output < 0) {
      return null;
    }
    input = Math.max(0, input);
    output = Math.max(0, output);
    String model = holder.path("model").isTextual() ? holder.path("model").asText() : requestModel;
    long micros = Math.round(input * inputPerMtok + output * outputPerMtok);
    return new LlmUsage(model, input, output, currency, micros);
  }

  /** The usage a whole answer's JSON body reports for {@code request}, priced; or null. */
  LlmUsage ofAnswer(ByteBuf body, CanonicalRequest request) {
    if (!body.isReadable()) {
      return null;
    }
    try {
      return price(JSON.readTree(new ByteBufInputStream(body.duplicate())), model(request));
    } catch (IOException notJson) {
      return null; // not JSON: no usage to read
    }
  }

  /**
   * The usage a streamed answer reports, priced; or null: its last usage event, or, for a small
   * body that is not an event stream, the body itself.
   */
  LlmUsage ofStream(AnswerStream.Summary summary, CanonicalRequest request) {
    try {
      JsonNode reported = summary.usageEvent() != null ? JSON.readTree(summary.usageEvent())
          : summary.head() != null && summary.head().length > 0 ? JSON.readTree(summary.head())
          : null;
      return price(reported, model(request));
    } catch (IOException notJson) {
      return null;
    }
  }

  private static String model(CanonicalRequest r) {
    JsonNode view = r.content().view();
    return view != null && view.path("model").isTextual() ? view.path("model").asText() : null;
  }

  /** Whether a stream event's data may be a usage event (so it is worth parsing). */
  static boolean mayHoldUsage(String data) {
    return data.contains("\"usage\"") && !data.contains("\"usage\":null")
        && !data.contains("\"usage\": null");
  }

  private static long tokens(JsonNode usage, String chat, String responses) {
    JsonNode n = usage.has(chat) ? usage.path(chat) : usage.path(responses);
    return n.canConvertToLong() && n.asLong() >= 0 ? n.asLong() : -1;
  }
}
