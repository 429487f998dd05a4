package io.countersign.ledger.event;

/**
 * One server-sent event of a streamed answer, as journaled.
 *
 * @param event the event's type, or null for the default ({@code message})
 * @param id the last event id the stream set, or null
 * @param data the event's data (lines joined by LF)
 * @param truncated true when the data was cut to the recording budget, else null
 */
public record SseEventRecord(String event, String id, String data, Boolean truncated) {}
