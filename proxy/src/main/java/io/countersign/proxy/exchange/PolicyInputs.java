package io.countersign.proxy.exchange;

import io.countersign.ledger.InstantText;
import io.countersign.policy.PolicyInput;
import io.countersign.proxy.canonical.CallerIdentity;
import io.countersign.proxy.canonical.CanonicalRequest;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Map;

/** Builds the policy input from a canonical request: a view, never a second interpretation. */
public final class PolicyInputs {
  private PolicyInputs() {}

  /** The input for {@code request}, received at {@code time}, with no spend counters. */
  public static PolicyInput of(CanonicalRequest request, Instant time) {
    return of(request, time, Map.of());
  }

  /** The input for {@code request}, received at {@code time}, with the caller's spend so far. */
  public static PolicyInput of(CanonicalRequest request, Instant time, Map<String, Long> spend) {
    Map<String, String> headers = new LinkedHashMap<>();
    request.headers().forEach(h -> headers.put(h.getKey(), h.getValue()));
    CallerIdentity c = request.caller();
    return new PolicyInput(
        new PolicyInput.Request(
            request.method(),
            request.route().name(),
            request.path(),
            request.upstreamPath(),
            request.query().params(),
            headers,
            request.content().kind().wireName(),
            request.content().view(),
            request.content().nested(),
            request.bodySha256(),
            request.size()),
        new PolicyInput.Caller(
            c.agent(),
            c.workflow(),
            c.run(),
            c.onBehalfOf(),
            c.account(),
            c.tool(),
            c.promptRef(),
            c.contextRefs()),
        new PolicyInput.Context(InstantText.format(time.truncatedTo(ChronoUnit.MILLIS)), spend));
  }
}
