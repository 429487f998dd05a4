package io.countersign.proxy.config;

/**
 * How one route reads what the canonicalizer would otherwise refuse: the per-route switches of
 * {@code docs/canonicalization.md}. The defaults refuse everything a second parser could read
 * differently; each switch names what its upstream needs and what the route gives up.
 *
 * @param overrides what happens to headers and parameters that change what the upstream does
 *     (method, URL, host, identity overrides): {@link Overrides#REFUSE} (400) or {@link
 *     Overrides#STRIP} (removed before the policy sees the request and before forwarding)
 * @param pathParameters whether a path may hold {@code ;} (matrix or servlet path parameters), raw
 *     or as {@code %3B}
 * @param encodedPercent whether a path may hold {@code %25}, an encoded percent sign (still
 *     refused when a second decoding would reveal a dot-segment, a separator or a control
 *     character)
 * @param opaqueBodies whether a body the proxy cannot read (another media type, or none declared)
 *     is forwarded as opaque bytes for the policy to judge, instead of being refused with 415
 * @param caseSensitiveNames whether the upstream tells names apart by case, so that a JSON object,
 *     a form or a query may hold two names equal under Unicode simple case folding; by default
 *     such a request is refused with 400 {@code name_case_collision}
 */
public record RequestRules(Overrides overrides, boolean pathParameters, boolean encodedPercent,
    boolean opaqueBodies, boolean caseSensitiveNames) {

  /** Refuse every override, no {@code ;} or {@code %25} in paths, no opaque bodies, no case twins. */
  public static final RequestRules STRICT =
      new RequestRules(Overrides.REFUSE, false, false, false, false);

  /** What happens to a header or parameter that would change what the upstream does. */
  public enum Overrides {
    /** The request is refused with 400 {@code override_refused}, saying which and why. */
    REFUSE,
    /** The header or parameter is removed; the policy sees, and the upstream gets, the rest. */
    STRIP
  }
}
