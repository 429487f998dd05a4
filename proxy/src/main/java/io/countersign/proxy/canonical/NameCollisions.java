package io.countersign.proxy.canonical;

import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * Names that differ only by case are one name to many upstreams: Go's {@code encoding/json},
 * Jackson with case-insensitive properties and .NET's {@code PropertyNameCaseInsensitive} bind JSON
 * keys ignoring case (Unicode simple folding, so the Kelvin sign is a {@code k}), and ASP.NET binds
 * form and query names the same way, the last one winning. The policy would judge
 * {@code discount_pct} while the upstream acts on {@code Discount_Pct}. So an object, a form or a
 * query holding two names equal under simple case folding is refused (400
 * {@code name_case_collision}), as exact duplicates are, unless the route declares its upstream
 * case-sensitive ({@code canonicalization.case_sensitive_names}).
 */
final class NameCollisions {
  private NameCollisions() {}

  /** A name under Unicode simple case folding, code point by code point. */
  static String fold(String name) {
    StringBuilder b = null;
    for (int i = 0; i < name.length(); ) {
      int c = name.codePointAt(i);
      int f = Character.toLowerCase(Character.toUpperCase(c));
      if (f != c && b == null) {
        b = new StringBuilder(name.length()).append(name, 0, i);
      }
      if (b != null) {
        b.appendCodePoint(f);
      }
      i += Character.charCount(c);
    }
    return b == null ? name : b.toString();
  }

  /**
   * Refuses two names of one collection equal under folding (a JSON object's, a form's, a
   * query's).
   *
   * @param where what holds them, for the message ("the JSON body", "the form body")
   */
  static void requireDistinct(Iterator<String> names, String where)
      throws RequestRejectedException {
    Map<String, String> seen = new HashMap<>();
    while (names.hasNext()) {
      String name = names.next();
      String earlier = seen.putIfAbsent(fold(name), name);
      if (earlier != null && !earlier.equals(name)) {
        throw new RequestRejectedException(400, "name_case_collision", where + " holds the names '"
            + earlier + "' and '" + name + "', which are one name when case is ignored; upstreams"
            + " that bind names case-insensitively (Go's encoding/json, ASP.NET, .NET) act on one"
            + " of them while the policy judged both: send each name in one spelling, or declare"
            + " the route's upstream case-sensitive (canonicalization.case_sensitive_names)");
      }
    }
  }
}
