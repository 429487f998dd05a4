package io.countersign.ledger;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * How a {@link ChronicleLedger} is opened.
 *
 * @param rollPeriod how often the journal starts a new file
 * @param closeTimeout how long {@link ChronicleLedger#close()} waits for an append in progress
 * @param hmacKeyFile a file holding the key of the hash chain's HMAC-SHA256 (its bytes, as is);
 *     {@code null} for a plain SHA-256 chain
 * @param redactHeaders request and response header names (any case) whose values never reach the
 *     disk
 * @param retainCycles how many roll cycles (files) to keep, the current one included; older whole
 *     cycles are deleted, and the deletion is itself recorded. {@code 0} keeps everything
 * @param minFreeBytes the writer refuses to append (fails closed) while the ledger's file system has
 *     less free space than this, so a full disk is an error, never a crash of the process
 */
public record LedgerOptions(
    RollPeriod rollPeriod,
    Duration closeTimeout,
    Path hmacKeyFile,
    Set<String> redactHeaders,
    int retainCycles,
    long minFreeBytes) {

  /** The default close timeout. */
  public static final Duration DEFAULT_CLOSE_TIMEOUT = Duration.ofSeconds(10);

  /** Headers redacted by default. */
  public static final Set<String> DEFAULT_REDACT_HEADERS =
      Set.of("authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key");

  /**
   * The default free-space floor: 1 MiB. Chronicle maps its files and touches pages as it writes;
   * on a full file system that is a SIGBUS, so the writer stops well before.
   */
  public static final long DEFAULT_MIN_FREE_BYTES = 1L << 20;

  /** Validates the options. */
  public LedgerOptions {
    Objects.requireNonNull(rollPeriod, "rollPeriod");
    Objects.requireNonNull(closeTimeout, "closeTimeout");
    Objects.requireNonNull(redactHeaders, "redactHeaders");
    if (closeTimeout.isNegative()) {
      throw new IllegalArgumentException("ledger close timeout must not be negative");
    }
    if (retainCycles < 0) {
      throw new IllegalArgumentException(
          "ledger retention must be 0 (keep all) or a number of cycles, got " + retainCycles);
    }
    if (minFreeBytes < 0) {
      throw new IllegalArgumentException("ledger minimum free space must not be negative");
    }
    redactHeaders =
        redactHeaders.stream()
            .map(h -> h.trim().toLowerCase(Locale.ROOT))
            .collect(Collectors.toUnmodifiableSet());
  }

  /** The options of earlier versions; the rest at their defaults. */
  public LedgerOptions(RollPeriod rollPeriod, Duration closeTimeout) {
    this(
        rollPeriod,
        closeTimeout,
        null,
        DEFAULT_REDACT_HEADERS,
        0,
        DEFAULT_MIN_FREE_BYTES);
  }

  /**
   * Daily files, {@link #DEFAULT_CLOSE_TIMEOUT}, a SHA-256 chain,
   * {@link #DEFAULT_REDACT_HEADERS}, no retention limit, {@link #DEFAULT_MIN_FREE_BYTES}.
   */
  public static LedgerOptions defaults() {
    return new LedgerOptions(RollPeriod.DAILY, DEFAULT_CLOSE_TIMEOUT);
  }

  /** These options with another roll period. */
  public LedgerOptions withRollPeriod(RollPeriod period) {
    return new LedgerOptions(
        period, closeTimeout, hmacKeyFile, redactHeaders, retainCycles,
        minFreeBytes);
  }

  /** These options with another close timeout. */
  public LedgerOptions withCloseTimeout(Duration timeout) {
    return new LedgerOptions(
        rollPeriod, timeout, hmacKeyFile, redactHeaders, retainCycles,
        minFreeBytes);
  }

  /** These options with an HMAC-SHA256 chain keyed by the bytes of {@code file}. */
  public LedgerOptions withHmacKeyFile(Path file) {
    return new LedgerOptions(
        rollPeriod, closeTimeout, file, redactHeaders, retainCycles, minFreeBytes);
  }

  /** These options with another list of redacted headers (replacing the defaults). */
  public LedgerOptions withRedactHeaders(Set<String> headers) {
    return new LedgerOptions(
        rollPeriod, closeTimeout, hmacKeyFile, headers, retainCycles,
        minFreeBytes);
  }

  /** These options keeping only the newest {@code cycles} roll cycles ({@code 0}: keep all). */
  public LedgerOptions withRetainCycles(int cycles) {
    return new LedgerOptions(
        rollPeriod, closeTimeout, hmacKeyFile, redactHeaders, cycles,
        minFreeBytes);
  }

  /** These options with another free-space floor. */
  public LedgerOptions withMinFreeBytes(long bytes) {
    return new LedgerOptions(
        rollPeriod, closeTimeout, hmacKeyFile, redactHeaders, retainCycles, bytes);
  }
}
