package io.countersign.ledger.event;

/** An event of an exchange's own life: its intent, its outcome, or its rejection. */
public sealed interface ExchangeEvent extends EventBody
    permits ExchangeDecided, ExchangeOutcome, ExchangeRejected {}
