package io.countersign.proxy.canonical;

import io.countersign.proxy.config.RequestRules;
import java.text.Normalizer;

/**
 * The one rule for paths (documented in {@code docs/canonicalization.md}): a path is a sequence of
 * non-empty segments; each is percent-decoded strictly, refused when it hides a dot-segment, a
 * separator or a control character (also as a Unicode look-alike that NFKC folds to one), and
 * normalized by RFC 3986 6.2.2: escapes of unreserved characters decoded, every other escape kept
 * in upper case, so a reserved character keeps the spelling the agent chose. The proxy refuses
 * what it would otherwise have to resolve, so the path the policy judges is the path the upstream
 * gets, whatever path rules the upstream applies. After the route is known, {@link
 * #checkRouteRules} refuses {@code ;} path parameters and {@code %25} unless the route allows them.
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
          400, "bad_request_target", "the request target must be a path starting with '/'"
              + " (origin form; not an absolute URL, an authority or '*')");
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
      checkDecoded(decoded);
      out.append('/').append(PercentCodec.normalizePathSegment(raw));
      if (last) {
        break;
      }
      start = end + 1;
    }
    return out.toString();
  }

  private static void checkDecoded(String decoded) throws RequestRejectedException {
    if (decoded.equals(".") || decoded.equals("..")) {
      throw new RequestRejectedException(
          400,
          "path_dot_segment",
          "the path has a '" + decoded + "' segment (possibly percent-encoded); send the"
              + " resolved path instead");
    }
    boolean ascii = true;
    for (int i = 0; i < decoded.length(); i++) {
      char c = decoded.charAt(i);
      if (c == '/' || c == '\\') {
        throw new RequestRejectedException(
            400, "path_encoded_separator", "a path segment holds a '" + c + "' (raw or as %2F or"
                + " %5C), which servers read as a separator or not");
      }
      if (c < 0x20 || c == 0x7f) {
        throw new RequestRejectedException(
            400, "path_control_character", "a path segment holds a control character");
      }
      ascii &= c < 0x80;
    }
    if (!ascii) {
      // Servers that fold Unicode (IIS's best-fit mapping, NFKC in some routers) read a fullwidth
      // full stop or solidus as '.' or '/'.
      String folded = Normalizer.normalize(decoded, Normalizer.Form.NFKC);
      if (!folded.equals(decoded) && (folded.equals(".") || folded.equals("..")
          || folded.indexOf('/') >= 0 || folded.indexOf('\\') >= 0
          || folded.chars().anyMatch(ch -> ch < 0x20 || ch == 0x7f))) {
        throw new RequestRejectedException(400, "path_unicode_confusable", "a path segment holds"
            + " characters that Unicode folding (NFKC) turns into a dot-segment or a separator");
      }
    }
  }

  /**
   * Applies the route's rules to a canonical path: {@code ;} (raw or {@code %3B}) only where the
   * route allows path parameters, and never after an empty, {@code .} or {@code ..} name (servlet
   * containers read {@code /..;x/} as {@code /../}); {@code %25} only where the route allows it,
   * and never when a second decoding would reveal what the first is refused for.
   *
   * @throws RequestRejectedException 400 {@code path_dot_segment}, {@code path_parameter}, {@code
   *     path_encoded_percent} or {@code path_double_encoding}
   */
  public static void checkRouteRules(String path, RequestRules rules)
      throws RequestRejectedException {
    boolean semicolon = path.indexOf(';') >= 0 || path.contains("%3B");
    boolean percent = path.contains("%25");
    if (!semicolon && !percent) {
      return; // the common case: one scan for each character
    }
    for (String segment : path.substring(1).split("/", -1)) {
      if (semicolon) {
        int cut = firstParameter(segment);
        if (cut >= 0) {
          String name = PercentCodec.decode(segment.substring(0, cut), "a path segment");
          if (name.isEmpty() || name.equals(".") || name.equals("..")) {
            throw new RequestRejectedException(400, "path_dot_segment", "a path segment is '"
                + name + "' followed by ';' parameters, which servlet containers resolve as a"
                + " dot-segment ('..;' is '..')");
          }
        }
      }
      if (percent && rules.encodedPercent() && segment.contains("%25")) {
        String once = PercentCodec.decode(segment, "a path segment");
        String twice = decodeLeniently(once);
        int cut = twice.indexOf(';');
        String name = cut < 0 ? twice : twice.substring(0, cut);
        boolean hazard = name.equals(".") || name.equals("..") || twice.indexOf('/') >= 0
            || twice.indexOf('\\') >= 0 || twice.chars().anyMatch(ch -> ch < 0x20 || ch == 0x7f)
            || (!rules.pathParameters() && cut >= 0);
        if (hazard) {
          throw new RequestRejectedException(400, "path_double_encoding", "a path segment"
              + " decoded a second time (as some frameworks do) reveals a dot-segment, a"
              + " separator, a ';' or a control character");
        }
      }
    }
    if (semicolon && !rules.pathParameters()) {
      throw new RequestRejectedException(400, "path_parameter", "the path holds ';' (raw or"
          + " %3B), which servlet containers and matrix-parameter routers read as path"
          + " parameters and others as part of the name; this route does not allow them"
          + " (canonicalization.path_parameters)");
    }
    if (percent && !rules.encodedPercent()) {
      throw new RequestRejectedException(400, "path_encoded_percent", "the path holds %25, an"
          + " encoded '%', which a second decoder turns into something else (%252e is '.');"
          + " this route does not allow it (canonicalization.encoded_percent)");
    }
  }

  /** The index of the first ';' or %3B in a canonical segment, or -1. */
  private static int firstParameter(String segment) {
    int raw = segment.indexOf(';');
    int encoded = segment.indexOf("%3B");
    if (raw < 0) {
      return encoded;
    }
    return encoded < 0 ? raw : Math.min(raw, encoded);
  }

  /** Decodes the {@code %XX} escapes with two hex digits; leaves anything else as it is. */
  private static String decodeLeniently(String s) {
    if (s.indexOf('%') < 0) {
      return s;
    }
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream(s.length());
    byte[] in = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    for (int i = 0; i < in.length; i++) {
      if (in[i] == '%' && i + 2 < in.length && Character.digit(in[i + 1], 16) >= 0
          && Character.digit(in[i + 2], 16) >= 0) {
        bytes.write(Character.digit(in[i + 1], 16) * 16 + Character.digit(in[i + 2], 16));
        i += 2;
      } else {
        bytes.write(in[i]);
      }
    }
    return bytes.toString(java.nio.charset.StandardCharsets.UTF_8);
  }
}
