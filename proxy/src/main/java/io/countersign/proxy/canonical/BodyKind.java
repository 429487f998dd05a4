package io.countersign.proxy.canonical;

/**
 * What a request body is, as the policy sees it in {@code input.request.body_kind}. Every kind but
 * {@link #OPAQUE} is parsed strictly into the form the policy reads; an opaque body is forwarded
 * only on a route that allows opaque bodies, and the shipped policy denies mutations that carry
 * one unless a catalog rule accepts them.
 */
public enum BodyKind {
  /** No body (zero bytes), whatever the Content-Type says. */
  NONE("none"),
  /** {@code application/json} or {@code +json}: the parsed I-JSON value. */
  JSON("json"),
  /** {@code application/x-www-form-urlencoded}: names to lists of values. */
  FORM("form"),
  /** {@code multipart/form-data}: text fields and files (name, filename, type, size, sha256). */
  MULTIPART("multipart"),
  /** {@code text/*} in UTF-8: the text. */
  TEXT("text"),
  /** Anything else, on a route that allows opaque bodies: the policy sees only digest and size. */
  OPAQUE("opaque");

  private final String wireName;

  BodyKind(String wireName) {
    this.wireName = wireName;
  }

  /**
   * The kind named {@code name} in the policy input and the ledger.
   *
   * @throws IllegalArgumentException for a name no kind has
   */
  public static BodyKind fromWire(String name) {
    for (BodyKind k : values()) {
      if (k.wireName.equals(name)) {
        return k;
      }
    }
    throw new IllegalArgumentException("no body kind '" + name + "'");
  }

  /** The name in the policy input and the ledger, e.g. {@code form}. */
  public String wireName() {
    return wireName;
  }
}
