package io.countersign.ledger;

import java.nio.file.Path;

/** A directory that should hold a ledger does not exist or holds no Chronicle Queue journal. */
public class NoLedgerException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** For {@code dir}, with what is wrong with it. */
  public NoLedgerException(Path dir, String problem) {
    super("no ledger at " + dir + ": " + problem);
  }
}
