package io.countersign.ledger.event;

import java.util.Map;

/**
 * The body of one ledger event. Each kind is a record; {@link io.countersign.ledger.EventType} maps
 * kinds to their wire names.
 *
 * <p>What the ledger itself needs of a body is declared here, so that the journal's code never reads
 * a body by string paths: the header maps a redaction may apply to.
 */
public sealed interface EventBody
    permits ExchangeEvent, ApprovalEvent, PolicyReloaded, PolicyReloadRefused, PolicyShadowDisagreed,
        LedgerRetention {

  /**
   * The header maps of this body that secret-header redaction applies to, by the name of the member
   * holding them ({@code request}, {@code response}); the map's keys are header names.
   */
  default Map<String, Map<String, String>> redactableHeaders() {
    return Map.of();
  }
}
