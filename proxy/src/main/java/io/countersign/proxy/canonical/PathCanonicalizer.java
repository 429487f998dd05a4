package io.countersign.proxy.canonical;

/**
 * The one rule for paths (documented in {@code docs/canonicalization.md}): a path is a sequence of
 * non-empty segments; each is percent-decoded strictly, refused when it hides a dot-segment, a
 * separator or a control character, and re-encoded with only RFC 3986 pchars left literal. The
 * proxy refuses what it would otherwise have to resolve, so the path the policy judges is the path
 * the upstream gets, whatever path rules the upstream applies.
 */
public final class PathCanonicalizer {
  private PathCanonicalizer() {}

  /**
   * Canonicalizes the path of an origin-form request target.
   *
   * @param rawPath the path as received, starting with "/"
   * @return the canonical path
   * @throws RequestRejectedException (400) saying which rule the path broke
   */
  public static String canonicalize(String rawPath) throws RequestRejectedException {
    if (rawPath.isEmpty() || rawPath.charAt(0) != '/') {
      throw new RequestRejectedException(
          400, "bad_request_target", "the request target must be a path starting with '/'");
    }
    if (rawPath.indexOf('#') >= 0) {
      throw new RequestRejectedException(
          400, "bad_request_target", "the request target holds a fragment ('#')");
    }
    if (rawPath.equals("/")) {
      return "/";
    }
    StringBuilder out = new StringBuilder(rawPath.length());
    int start = 1;
    while (start <= rawPath.length()) {
      int slash = rawPath.indexOf('/', start);
      int end = slash < 0 ? rawPath.length() : slash;
      String raw = rawPath.substring(start, end);
      boolean last = slash < 0;
      if (raw.isEmpty()) {
        if (last) {
          out.append('/'); // one trailing slash is meaningful to many APIs; kept as sent
          break;
        }
        throw new RequestRejectedException(
            400, "path_empty_segment", "the path has an empty segment ('//'), which is ambiguous");
      }
      String decoded = PercentCodec.decode(raw, "a path segment");
      if (decoded.equals(".") || decoded.equals("..")) {
        throw new RequestRejectedException(
            400,
            "path_dot_segment",
            "the path has a '" + decoded + "' segment (possibly percent-encoded); send the"
                + " resolved path instead");
      }
      for (int i = 0; i < decoded.length(); i++) {
        char c = decoded.charAt(i);
        if (c == '/' || c == '\\') {
          throw new RequestRejectedException(
              400, "path_encoded_separator", "a path segment hides a '" + c + "' (as %2F or %5C)");
        }
        if (c < 0x20 || c == 0x7f) {
          throw new RequestRejectedException(
              400, "path_control_character", "a path segment holds a control character");
        }
      }
      out.append('/').append(PercentCodec.encode(decoded, PercentCodec.PATH_LITERAL));
      if (last) {
        break;
      }
      start = end + 1;
    }
    return out.toString();
  }
}
