package io.countersign.ledger;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Seals events into the hash chain and checks seals. A stored line ends with three envelope
 * members, written in this order by the writer and nowhere else:
 *
 * <pre>
 * ...,"body":{...}[,"redacted":[...]],"seq":41,"prev":"&lt;64 hex&gt;","hash":"&lt;64 hex&gt;"}
 * </pre>
 *
 * <p><b>Canonical bytes.</b> The seal ({@code hash}, or {@code hmac} when the chain is keyed) is
 * SHA-256 (or HMAC-SHA256 with the key) over the UTF-8 bytes of the stored line with its last
 * member removed: everything before {@code ,"hash":"} (or {@code ,"hmac":"}) followed by {@code }}.
 * {@code prev} is the seal of the previous event ({@link #GENESIS} for the first); {@code seq}
 * counts events from 0 and continues across restarts, so a gap or a step back shows a deletion or a
 * reordering.
 *
 * <p>Threading: an instance holds a digest engine and is used by one thread at a time.
 */
final class HashChain {

  /** The {@code prev} of the first event: 64 zeros. */
  static final String GENESIS = "0".repeat(64);

  static final String HASH_FIELD = "hash";
  static final String HMAC_FIELD = "hmac";
  private static final String HASH_MEMBER = ",\"hash\":\"";
  private static final String HMAC_MEMBER = ",\"hmac\":\"";
  private static final String SEQ_MEMBER = ",\"seq\":";
  private static final String PREV_MEMBER = ",\"prev\":\"";
  private static final int HEX_LENGTH = 64;
  private static final HexFormat HEX = HexFormat.of();

  private final MessageDigest sha256;
  private final Mac hmac;

  /**
   * @param hmacKey the HMAC key, or {@code null} for plain SHA-256
   */
  HashChain(byte[] hmacKey) {
    try {
      if (hmacKey == null) {
        this.sha256 = MessageDigest.getInstance("SHA-256");
        this.hmac = null;
      } else {
        if (hmacKey.length == 0) {
          throw new IllegalArgumentException("the ledger HMAC key is empty");
        }
        this.sha256 = null;
        this.hmac = Mac.getInstance("HmacSHA256");
        this.hmac.init(new SecretKeySpec(hmacKey, "HmacSHA256"));
      }
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JVM lacks SHA-256 / HmacSHA256", e);
    }
  }

  /** Whether seals are HMACs. */
  boolean keyed() {
    return hmac != null;
  }

  /**
   * Seals an unsealed wire form ({@link LedgerEventCodec#toUtf8}, UTF-8 ending with <code>}</code>)
   * into {@code line}, which is cleared first: the stored line's UTF-8 bytes, built in place with no
   * intermediate strings (the writer reuses one buffer for every event).
   *
   * @param prev the previous seal, 64 lower-case hex digits in ASCII
   * @return the new seal, 64 lower-case hex digits in ASCII (the next event's {@code prev})
   */
  byte[] seal(byte[] unsealed, long seq, byte[] prev, LineBuffer line) {
    return seal(unsealed, unsealed.length, seq, prev, line);
  }

  /** As {@link #seal(byte[], long, byte[], LineBuffer)}, for the first {@code length} bytes. */
  byte[] seal(byte[] unsealed, int length, long seq, byte[] prev, LineBuffer line) {
    line.clear();
    line.append(unsealed, 0, length - 1);
    line.appendAscii(SEQ_MEMBER).appendDecimal(seq).appendAscii(PREV_MEMBER);
    line.append(prev, 0, prev.length).append((byte) '"');
    byte[] raw;
    if (hmac != null) {
      hmac.update(line.array(), 0, line.length());
      hmac.update((byte) '}');
      raw = hmac.doFinal();
    } else {
      sha256.update(line.array(), 0, line.length());
      sha256.update((byte) '}');
      raw = sha256.digest();
    }
    byte[] seal = HEX.formatHex(raw).getBytes(StandardCharsets.US_ASCII);
    line.appendAscii(keyed() ? HMAC_MEMBER : HASH_MEMBER).append(seal, 0, seal.length);
    line.appendAscii("\"}");
    return seal;
  }

  /** The seal of canonical text, in lower-case hex. */
  String digest(String canonical) {
    byte[] bytes = canonical.getBytes(StandardCharsets.UTF_8);
    return HEX.formatHex(hmac != null ? hmac.doFinal(bytes) : sha256.digest(bytes));
  }

  /**
   * A stored line split into its canonical text and its seal.
   *
   * @param canonical the canonical text (what the seal covers)
   * @param field {@value #HASH_FIELD} or {@value #HMAC_FIELD}
   * @param seal the seal as stored
   */
  record Sealed(String canonical, String field, String seal) {}

  /** Splits a stored line, or returns {@code null} when it does not end with a seal. */
  static Sealed split(String line) {
    int n = line.length();
    int memberLength = HASH_MEMBER.length() + HEX_LENGTH + 2;
    if (n < memberLength + 2 || line.charAt(n - 1) != '}' || line.charAt(n - 2) != '"') {
      return null;
    }
    int start = n - memberLength;
    String field;
    if (line.startsWith(HASH_MEMBER, start)) {
      field = HASH_FIELD;
    } else if (line.startsWith(HMAC_MEMBER, start)) {
      field = HMAC_FIELD;
    } else {
      return null;
    }
    String seal = line.substring(start + HASH_MEMBER.length(), n - 2);
    for (int i = 0; i < seal.length(); i++) {
      char c = seal.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        return null;
      }
    }
    return new Sealed(line.substring(0, start) + "}", field, seal);
  }
}
