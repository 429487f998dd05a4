package io.countersign.ledger;

import java.util.Objects;

/**
 * The newest sealed event of a ledger: publish it (or just its {@code seal}) somewhere the ledger's
 * writer cannot change, and {@code ledger verify --anchor SEAL} later proves nothing was cut off
 * the end since.
 *
 * @param index the journal index of the event
 * @param seq its position in the hash chain
 * @param seal its {@code hash} (or {@code hmac}), lower-case hex
 */
public record ChainHead(long index, long seq, String seal) {

  /** Validates the record. */
  public ChainHead {
    Objects.requireNonNull(seal, "seal");
  }

  /** As one JSON line: {@code {"index":N,"seq":S,"hash":"..."}}. */
  public String toJsonLine() {
    return "{\"index\":" + index + ",\"seq\":" + seq + ",\"hash\":\"" + seal + "\"}";
  }
}
