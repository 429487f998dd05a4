package io.countersign.policy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.UncheckedIOException;

/** The one JSON mapping of policy values, shared by both engines so they see identical input. */
public final class PolicyJson {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private PolicyJson() {}

  /** The shared mapper (thread-safe once configured). */
  public static ObjectMapper mapper() {
    return MAPPER;
  }

  /** Serializes a policy input to the JSON bytes an engine sends to OPA. */
  public static byte[] toJson(PolicyInput input) {
    try {
      return MAPPER.writeValueAsBytes(input);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }
}
