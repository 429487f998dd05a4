package io.countersign.ledger;

import io.countersign.ledger.event.LedgerRetention;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Objects;
import java.util.Set;

/**
 * Checks a ledger's hash chain end to end ({@code countersign ledger verify}) and finds its head
 * ({@code countersign ledger head}). The chain's canonical bytes are defined in {@link HashChain}.
 *
 * <p>The first break is reported with the journal index where it shows and its kind:
 *
 * <ul>
 *   <li>{@link Kind#EDITED}: an event's content no longer matches its seal, or (when the seal was
 *       recomputed) no longer matches what the next event's {@code prev} committed to; the index
 *       is the changed event's;
 *   <li>{@link Kind#DELETED}: events are missing before this index ({@code seq} jumps, and the
 *       missing ones appear nowhere later);
 *   <li>{@link Kind#REORDERED}: an event appears out of its chain position (a missing {@code seq}
 *       shows up later, or {@code seq} steps back);
 *   <li>{@link Kind#TRUNCATED}: the anchored head (from {@code ledger head}, published earlier) is
 *       no longer in the ledger: events were cut off its end;
 *   <li>{@link Kind#UNREADABLE}: a document that is not a readable sealed event.
 * </ul>
 *
 * <p>Threading: runs on the caller's thread.
 */
public final class LedgerVerifier {

  /** The kind of a break. */
  public enum Kind {
    /** Content changed after it was written. */
    EDITED,
    /** Events removed from the middle (or the start, without a retention record). */
    DELETED,
    /** Events out of order. */
    REORDERED,
    /** Events removed from the end (seen against an anchor). */
    TRUNCATED,
    /** A document that is not a readable sealed event. */
    UNREADABLE
  }

  /**
   * The first place the chain does not hold.
   *
   * @param index the journal index where it shows
   * @param kind what kind of break
   * @param detail an explanation for an operator
   */
  public record Break(long index, Kind kind, String detail) {
    /** Validates the record. */
    public Break {
      Objects.requireNonNull(kind, "kind");
      Objects.requireNonNull(detail, "detail");
    }
  }

  /**
   * What {@link #verify} found.
   *
   * @param documents documents read
   * @param unchained events before the chain began (written by a version without it)
   * @param head the newest sealed event when the chain holds, otherwise {@code null}
   * @param firstBreak the first break, or {@code null} when the chain holds
   */
  public record Report(long documents, long unchained, ChainHead head, Break firstBreak) {
    /** Whether the chain holds. */
    public boolean intact() {
      return firstBreak == null;
    }
  }

  private LedgerVerifier() {}

  /**
   * Verifies the ledger in {@code dir}.
   *
   * @param hmacKey the chain's HMAC key, or {@code null} for a SHA-256 chain
   * @param anchor a seal published earlier that must still be in the chain, or {@code null}
   * @throws NoLedgerException when there is no ledger at {@code dir}
   * @throws IllegalStateException when the chain is keyed and no key was given
   */
  public static Report verify(Path dir, byte[] hmacKey, String anchor) {
    HashChain plain = new HashChain(null);
    HashChain keyed = hmacKey == null ? null : new HashChain(hmacKey);
    // One compact row per sealed event (primitives only: a day of traffic fits in little memory).
    Links links = new Links();
    Set<Long> retentionStarts = new HashSet<>();
    Break[] unreadable = {null};
    long[] unchained = {0};
    String[] lastSeal = {null};
    boolean[] anchorSeen = {anchor == null};
    long documents;
    try (LedgerReader reader = LedgerReader.open(dir)) {
      documents =
          reader.forEachRaw(
              (index, text, error) -> {
                if (unreadable[0] != null) {
                  return;
                }
                if (error != null) {
                  unreadable[0] = new Break(index, Kind.UNREADABLE, error);
                  return;
                }
                HashChain.Sealed sealed = HashChain.split(text);
                if (sealed == null) {
                  if (links.size == 0 && isUnsealedEvent(text)) {
                    unchained[0]++; // written before the chain existed
                  } else {
                    unreadable[0] = new Break(index, Kind.UNREADABLE, "not a sealed ledger event");
                  }
                  return;
                }
                HashChain chain = HashChain.HMAC_FIELD.equals(sealed.field()) ? keyed : plain;
                if (chain == null) {
                  throw new IllegalStateException(
                      "the ledger's chain is keyed (HMAC-SHA256); pass its key file to verify it");
                }
                boolean sealHolds = chain.digest(sealed.canonical()).equals(sealed.seal());
                JsonNode root;
                try {
                  root = LedgerEventCodec.tree(text);
                } catch (IllegalArgumentException e) {
                  unreadable[0] = new Break(index, Kind.UNREADABLE, e.getMessage());
                  return;
                }
                String prev = root.path(LedgerEventCodec.FIELD_PREV).asText("");
                boolean genesis = HashChain.GENESIS.equals(prev);
                boolean linksBack = lastSeal[0] != null && lastSeal[0].equals(prev);
                links.add(index, root.path(LedgerEventCodec.FIELD_SEQ).asLong(-1), sealHolds,
                    genesis, linksBack);
                lastSeal[0] = sealed.seal();
                if (!anchorSeen[0] && sealed.seal().equals(anchor)) {
                  anchorSeen[0] = true;
                }
                if (sealHolds
                    && EventType.LEDGER_RETENTION.wireName()
                        .equals(root.path(LedgerEventCodec.FIELD_TYPE).asText())) {
                  try {
                    LedgerRetention r = LedgerEventCodec.fromTree(root).bodyAs(LedgerRetention.class);
                    if (r != null && r.firstKeptSeq() != null) {
                      retentionStarts.add(r.firstKeptSeq());
                    }
                  } catch (IllegalArgumentException e) {
                    // a sealed but unreadable retention record explains nothing
                  }
                }
              });
    }
    Break found = check(links, retentionStarts, unreadable[0]);
    ChainHead head = found == null && links.size > 0
        ? new ChainHead(links.index[links.size - 1], links.seq[links.size - 1], lastSeal[0])
        : null;
    if (found == null && !anchorSeen[0]) {
      long at = links.size == 0 ? -1 : links.index[links.size - 1];
      found =
          new Break(
              at,
              Kind.TRUNCATED,
              "the anchored head " + anchor + " is not in the ledger: events after index " + at
                  + " were cut off the end (or the anchor is from another ledger)");
    }
    return new Report(documents, unchained[0], head, found);
  }

  private static boolean isUnsealedEvent(String text) {
    try {
      LedgerEventCodec.fromJson(text);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /** Growable columns: index, seq, and what was learnt while streaming. */
  private static final class Links {
    long[] index = new long[1024];
    long[] seq = new long[1024];
    byte[] flags = new byte[1024];
    int size;

    static final byte SEAL_HOLDS = 1;
    static final byte GENESIS = 2;
    static final byte LINKS_BACK = 4;

    void add(long i, long s, boolean sealHolds, boolean genesis, boolean linksBack) {
      if (size == index.length) {
        index = Arrays.copyOf(index, size * 2);
        seq = Arrays.copyOf(seq, size * 2);
        flags = Arrays.copyOf(flags, size * 2);
      }
      index[size] = i;
      seq[size] = s;
      flags[size] = (byte) ((sealHolds ? SEAL_HOLDS : 0) | (genesis ? GENESIS : 0)
          | (linksBack ? LINKS_BACK : 0));
      size++;
    }

    boolean has(int i, byte flag) {
      return (flags[i] & flag) != 0;
    }
  }

  private static Break check(Links l, Set<Long> retentionStarts, Break unreadable) {
    for (int i = 0; i < l.size; i++) {
      if (unreadable != null && l.index[i] > unreadable.index()) {
        return unreadable;
      }
      if (!l.has(i, Links.SEAL_HOLDS)) {
        return new Break(l.index[i], Kind.EDITED,
            "the event's content does not match its seal (seq " + l.seq[i] + ")");
      }
      if (i == 0) {
        if (l.seq[i] == 0 && l.has(i, Links.GENESIS)) {
          continue;
        }
        if (l.seq[i] > 0 && retentionStarts.contains(l.seq[i])) {
          continue; // earlier cycles were deleted by retention, and the ledger recorded it
        }
        return new Break(l.index[i], Kind.DELETED,
            "the chain starts at seq " + l.seq[i] + ", not 0, and no retention record explains it");
      }
      long expected = l.seq[i - 1] + 1;
      if (l.seq[i] == expected) {
        if (!l.has(i, Links.LINKS_BACK)) {
          return new Break(l.index[i - 1], Kind.EDITED,
              "the event at index " + l.index[i - 1] + " (seq " + l.seq[i - 1] + ") is not the "
                  + "one its successor at index " + l.index[i] + " committed to: it was replaced "
                  + "or its seal recomputed");
        }
        continue;
      }
      if (l.seq[i] < expected) {
        return new Break(l.index[i], Kind.REORDERED,
            "seq " + l.seq[i] + " appears after seq " + l.seq[i - 1]);
      }
      for (int j = i + 1; j < l.size; j++) {
        if (l.seq[j] == expected) {
          return new Break(l.index[i], Kind.REORDERED,
              "seq " + l.seq[i] + " appears where seq " + expected + " belongs; seq " + expected
                  + " is later, at index " + l.index[j]);
        }
      }
      return new Break(l.index[i], Kind.DELETED,
          (l.seq[i] - expected) + " event(s) (seq " + expected + ".." + (l.seq[i] - 1)
              + ") are missing before this index");
    }
    return unreadable;
  }

  /**
   * The head of the ledger in {@code dir}: its newest sealed event, or {@code null} when it has
   * none.
   *
   * @throws NoLedgerException when there is no ledger at {@code dir}
   */
  public static ChainHead head(Path dir) {
    JournalDirectory.requireJournal(dir);
    try (var queue = JournalDirectory.openForRead(dir)) {
      return ChainReading.head(queue);
    }
  }
}
