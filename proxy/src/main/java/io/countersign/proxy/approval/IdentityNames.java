package io.countersign.proxy.approval;

import java.text.Normalizer;
import java.util.Locale;

/**
 * Identity names compared as people read them (issue 19): two names are the same person when they
 * are equal after Unicode NFKC (fullwidth forms, ligatures and the no-break space become their
 * plain forms), with invisible format characters (zero-width spaces and joiners, the byte-order
 * mark, the soft hyphen) removed, surrounding white space stripped and case folded. Every place
 * that compares two identities (requester ≠ approver, someone the agent acts for, distinct
 * approvers in a quorum) uses {@link #same}.
 *
 * <p>Agent-side identity headers are visible ASCII already (the head check refuses any other
 * byte), so this matters for approver names, which come from the approvers file or an OIDC token
 * and may be any Unicode. Letters of other scripts that merely look alike (Cyrillic "а" for Latin
 * "a") stay different names: telling those apart needs Unicode's confusables data (UTS #39), which
 * is not here; docs/approvals.md says so.
 */
final class IdentityNames {
  private IdentityNames() {}

  /** The comparison key of a name: NFKC, no format characters, stripped, case folded. */
  static String key(String name) {
    String n = Normalizer.normalize(name, Normalizer.Form.NFKC);
    StringBuilder visible = new StringBuilder(n.length());
    n.codePoints().filter(c -> Character.getType(c) != Character.FORMAT).forEach(visible::appendCodePoint);
    // upper then lower: folds the letters whose lower case alone differs (ß → SS → ss, ſ → S → s)
    return visible.toString().strip().toUpperCase(Locale.ROOT).toLowerCase(Locale.ROOT);
  }

  /** Whether two names are the same person to a reader; a null name is nobody. */
  static boolean same(String a, String b) {
    return a != null && b != null && key(a).equals(key(b));
  }
}
