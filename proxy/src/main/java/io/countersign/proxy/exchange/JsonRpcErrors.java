package io.countersign.proxy.exchange;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A JSON-RPC 2.0 error response, {@code {"jsonrpc": "2.0", "id", "error": {"code", "message",
 * "data"}}}, with the proxy's fields in {@code data}. The HTTP status follows MCP's streamable
 * HTTP transport: a request (a message with a method and an id) is answered {@code 200} with the
 * error response echoing its id, as the server would answer it; anything else (a notification, a
 * batch, a body that is not a JSON-RPC request, bad input) gets the refusal's own HTTP status
 * with {@code id: null}.
 */
final class JsonRpcErrors implements ErrorDialect {
  /** A policy outcome: deny, a hold refused or ended without approval, fail-closed. */
  static final int REFUSED_BY_POLICY = -32010;
  /** The upstream gave no usable answer (502/504). */
  static final int UPSTREAM_FAILED = -32011;
  /** JSON-RPC's "Invalid Request": input the proxy refused before any policy saw it. */
  static final int INVALID_REQUEST = -32600;
  /** JSON-RPC's "Parse error": the body is not JSON the proxy reads. */
  static final int PARSE_ERROR = -32700;
  /** JSON-RPC's "Internal error": the proxy failed (ledger down ...). */
  static final int INTERNAL_ERROR = -32603;

  private final JsonNode id;

  private JsonRpcErrors(JsonNode id) {
    this.id = id;
  }

  /** The dialect answering {@code requestJson}: its id when it is a single JSON-RPC request. */
  static JsonRpcErrors answering(JsonNode requestJson) {
    JsonNode id = null;
    if (requestJson != null && requestJson.isObject() && requestJson.path("method").isTextual()) {
      JsonNode candidate = requestJson.get("id");
      if (candidate != null && (candidate.isTextual() || candidate.isIntegralNumber())) {
        id = candidate;
      }
    }
    return new JsonRpcErrors(id);
  }

  /** The error code of {@code r}. */
  static int codeOf(Refusal r) {
    if (r.decision() != null) {
      return REFUSED_BY_POLICY;
    }
    if (r.code().startsWith("upstream_")) {
      return UPSTREAM_FAILED;
    }
    if (r.status() < 500) {
      return r.code().startsWith("bad_json") ? PARSE_ERROR : INVALID_REQUEST;
    }
    return INTERNAL_ERROR;
  }

  @Override
  public Answer write(Refusal r) {
    ObjectNode body = JsonNodeFactory.instance.objectNode();
    body.put("jsonrpc", "2.0");
    if (id == null) {
      body.putNull("id");
    } else {
      body.set("id", id);
    }
    ObjectNode error = body.putObject("error");
    error.put("code", codeOf(r));
    error.put("message", r.explained());
    ObjectNode data = error.putObject("data");
    data.put("error", r.code());
    data.put("http_status", r.status());
    r.details(data);
    return Answers.json(id == null ? r.status() : 200, body, "application/json", r.exchangeId());
  }
}
