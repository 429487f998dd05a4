/**
 * The typed bodies of ledger events: one record per event kind, defined once here and used by
 * everything that writes or reads the journal (the proxy, replay, recovery, search, export,
 * redaction). The JSON shape of each record (snake_case members, absent where {@code null}) is the
 * {@code body} of the event's wire form, documented in {@code docs/ledger.md}. Readers ignore members
 * they do not know, so later versions may add members; a member is never renamed.
 */
package io.countersign.ledger.event;
