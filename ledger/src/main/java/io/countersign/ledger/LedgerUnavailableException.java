package io.countersign.ledger;

/** An event could not be written to the journal; the caller must fail closed. */
public class LedgerUnavailableException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** With the reason and its cause. */
  public LedgerUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }

  /** With the reason. */
  public LedgerUnavailableException(String message) {
    super(message);
  }
}
