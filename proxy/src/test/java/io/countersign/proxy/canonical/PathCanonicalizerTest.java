package io.countersign.proxy.canonical;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The path rule: what is kept, what is rewritten and what is refused, and why. */
class PathCanonicalizerTest {

  /**
   * @param note what the case is about
   * @param raw the path as received
   * @param canonical the expected canonical path
   */
  record Accepted(String note, String raw, String canonical) {
    @Override
    public String toString() {
      return note;
    }
  }

  /**
   * @param note what the case is about
   * @param raw the path as received
   * @param code the expected error code (the status is always 400)
   */
  record Refused(String note, String raw, String code) {
    @Override
    public String toString() {
      return note;
    }
  }

  static Stream<Accepted> accepted() {
    return Stream.of(
        new Accepted("the root path stays the root", "/", "/"),
        new Accepted("plain segments stay as sent", "/crm/v3/deals", "/crm/v3/deals"),
        new Accepted("one trailing slash is kept", "/crm/deals/", "/crm/deals/"),
        new Accepted("escaped unreserved characters are decoded", "/%7Euser/%41%2D%5F", "/~user/A-_"),
        new Accepted("lower-case hex becomes upper-case", "/a%5b%5d", "/a%5B%5D"),
        new Accepted("an escaped space stays escaped", "/a%20b", "/a%20b"),
        new Accepted("sub-delims, ':' and '@' stay literal", "/a!$&'()*+,;=:@b", "/a!$&'()*+,;=:@b"),
        new Accepted("escaped reserved characters stay escaped, upper-cased (RFC 3986 6.2.2)",
            "/%21%24%26%27%28%29%2a%2B%2C%3b%3D%3A%40", "/%21%24%26%27%28%29%2A%2B%2C%3B%3D%3A%40"),
        new Accepted("an escaped plus is not a raw plus", "/a%2Bb", "/a%2Bb"),
        new Accepted("an escaped unreserved character inside a name is decoded", "/a%2Ejson",
            "/a.json"),
        new Accepted("a fullwidth letter is not folded", "/%EF%BC%A1", "/%EF%BC%A1"),
        new Accepted("a plus in a path is a plus, not a space", "/a+b", "/a+b"),
        new Accepted("an escaped percent stays escaped", "/100%25", "/100%25"),
        new Accepted("raw ASCII that is not a pchar is escaped", "/a\"<>[]^`{|}b",
            "/a%22%3C%3E%5B%5D%5E%60%7B%7C%7Db"),
        new Accepted("UTF-8 escapes round trip with upper-case hex", "/caf%c3%a9/%E2%82%AC",
            "/caf%C3%A9/%E2%82%AC"),
        new Accepted("a four-byte character round trips", "/%F0%9F%98%80", "/%F0%9F%98%80"),
        new Accepted("dots inside a name are not dot-segments", "/a./.b/..c/...", "/a./.b/..c/..."),
        new Accepted("an escaped question mark stays escaped", "/a%3Fb", "/a%3Fb"));
  }

  static Stream<Refused> refused() {
    return Stream.of(
        new Refused("an empty target", "", "bad_request_target"),
        new Refused("a target without a leading slash", "crm/deals", "bad_request_target"),
        new Refused("the asterisk form", "*", "bad_request_target"),
        new Refused("the absolute form", "http://example.com/crm", "bad_request_target"),
        new Refused("a leading double slash", "//crm", "path_empty_segment"),
        new Refused("a double slash inside", "/crm//deals", "path_empty_segment"),
        new Refused("a double trailing slash", "/crm//", "path_empty_segment"),
        new Refused("a '.' segment", "/crm/./deals", "path_dot_segment"),
        new Refused("a '..' segment", "/crm/../admin", "path_dot_segment"),
        new Refused("a trailing '..'", "/crm/..", "path_dot_segment"),
        new Refused("a lone '.'", "/.", "path_dot_segment"),
        new Refused("an encoded '.'", "/crm/%2e/deals", "path_dot_segment"),
        new Refused("an encoded '..' in upper case", "/crm/%2E%2E/admin", "path_dot_segment"),
        new Refused("a half-encoded '..'", "/crm/.%2E/admin", "path_dot_segment"),
        new Refused("an encoded '..' before a trailing slash", "/crm/%2e%2e/", "path_dot_segment"),
        new Refused("an encoded '/'", "/crm/a%2Fb", "path_encoded_separator"),
        new Refused("an encoded '/' in lower case", "/crm/a%2fb", "path_encoded_separator"),
        new Refused("an encoded backslash", "/crm/a%5Cb", "path_encoded_separator"),
        new Refused("a raw backslash", "/crm/a\\b", "path_encoded_separator"),
        new Refused("an encoded NUL", "/crm/a%00b", "path_control_character"),
        new Refused("an encoded line feed", "/crm/a%0Ab", "path_control_character"),
        new Refused("an encoded carriage return", "/crm/a%0D", "path_control_character"),
        new Refused("an encoded DEL", "/crm/a%7F", "path_control_character"),
        new Refused("a '%' at the end", "/crm/a%", "bad_percent_encoding"),
        new Refused("a '%' with one hex digit", "/crm/a%4", "bad_percent_encoding"),
        new Refused("a '%' with non-hex digits", "/crm/a%zz", "bad_percent_encoding"),
        new Refused("a doubled '%'", "/crm/a%%41", "bad_percent_encoding"),
        new Refused("a truncated UTF-8 sequence", "/crm/a%C3", "bad_encoding"),
        new Refused("a byte that is never UTF-8", "/crm/a%FF", "bad_encoding"),
        new Refused("an overlong encoding of '/'", "/crm/a%C0%AFb", "bad_encoding"),
        new Refused("an encoded UTF-16 surrogate", "/crm/%ED%A0%80", "bad_encoding"),
        new Refused("a raw space", "/crm/a b", "bad_character"),
        new Refused("a raw tab", "/crm/a\tb", "bad_character"),
        new Refused("a raw non-ASCII character", "/crm/caf\u00e9", "bad_character"),
        new Refused("a raw non-ASCII character beside an escape", "/crm/%41\u00e9", "bad_character"),
        new Refused("fullwidth full stops that NFKC folds to '..'", "/crm/%EF%BC%8E%EF%BC%8E/admin",
            "path_unicode_confusable"),
        new Refused("a fullwidth solidus that NFKC folds to '/'", "/crm/a%EF%BC%8Fb",
            "path_unicode_confusable"),
        new Refused("a '%u' escape (IIS)", "/crm/%u002e%u002e", "bad_percent_encoding"));
  }

  @ParameterizedTest
  @MethodSource("accepted")
  void validPathsBecomeTheirCanonicalForm(Accepted c) throws RequestRejectedException {
    assertEquals(c.canonical(), PathCanonicalizer.canonicalize(c.raw()));
  }

  @ParameterizedTest
  @MethodSource("refused")
  void invalidPathsAreRefusedWithA400NamingTheRule(Refused c) {
    RequestRejectedException e =
        assertThrows(RequestRejectedException.class, () -> PathCanonicalizer.canonicalize(c.raw()));
    assertEquals(400, e.status());
    assertEquals(c.code(), e.code());
  }

  @ParameterizedTest
  @MethodSource("accepted")
  void canonicalizingACanonicalPathChangesNothing(Accepted c) throws RequestRejectedException {
    String once = PathCanonicalizer.canonicalize(c.raw());
    assertEquals(once, PathCanonicalizer.canonicalize(once));
  }

  @Test
  void dotSegmentsAreRefusedEvenWhenPercentEncoded() {
    for (String dots : new String[] {"%2e", "%2E", "%2e%2e", "%2E.", ".%2e"}) {
      RequestRejectedException e =
          assertThrows(
              RequestRejectedException.class,
              () -> PathCanonicalizer.canonicalize("/crm/" + dots + "/x"),
              dots);
      assertEquals("path_dot_segment", e.code(), dots);
    }
  }

  /**
   * @param note what the case is about
   * @param path a canonical path
   * @param rules the route's rules
   * @param code the expected error code, or null when the path is accepted
   */
  record RouteCase(String note, String path, io.countersign.proxy.config.RequestRules rules,
      String code) {
    @Override
    public String toString() {
      return note;
    }
  }

  static Stream<RouteCase> routeCases() {
    var strict = io.countersign.proxy.config.RequestRules.STRICT;
    var params = new io.countersign.proxy.config.RequestRules(
        io.countersign.proxy.config.RequestRules.Overrides.REFUSE, true, false, false, false);
    var percent = new io.countersign.proxy.config.RequestRules(
        io.countersign.proxy.config.RequestRules.Overrides.REFUSE, false, true, false, false);
    return Stream.of(
        new RouteCase("a plain path passes", "/crm/v3/deals", strict, null),
        new RouteCase("'..;' is a dot-segment to servlet containers", "/crm/..;/admin", params,
            "path_dot_segment"),
        new RouteCase("'..;' is refused as a dot-segment on a strict route too", "/crm/..;x/admin",
            strict, "path_dot_segment"),
        new RouteCase("'.%3B' is a dot-segment once decoded", "/crm/.%3B/admin", params,
            "path_dot_segment"),
        new RouteCase("an empty name before ';'", "/crm/;x/admin", params, "path_dot_segment"),
        new RouteCase("a matrix parameter on a strict route", "/crm/deals;v=1", strict,
            "path_parameter"),
        new RouteCase("an encoded semicolon on a strict route", "/crm/a%3Bb", strict,
            "path_parameter"),
        new RouteCase("a matrix parameter where the route allows them", "/crm/deals;v=1/x", params,
            null),
        new RouteCase("%25 on a strict route", "/crm/100%25", strict, "path_encoded_percent"),
        new RouteCase("%25 where the route allows it", "/crm/100%25", percent, null),
        new RouteCase("%252e%252e decodes twice to '..'", "/crm/%252e%252e/admin", percent,
            "path_double_encoding"),
        new RouteCase("%252F decodes twice to '/'", "/crm/a%252Fb", percent, "path_double_encoding"),
        new RouteCase("%2500 decodes twice to NUL", "/crm/a%2500", percent, "path_double_encoding"),
        new RouteCase("%253B decodes twice to ';' where ';' is not allowed", "/crm/a%253Bb",
            percent, "path_double_encoding"),
        new RouteCase("%2541 decodes twice to a plain letter", "/crm/a%2541", percent, null));
  }

  @ParameterizedTest
  @MethodSource("routeCases")
  void aRoutesRulesDecideSemicolonsAndEncodedPercents(RouteCase c) {
    if (c.code() == null) {
      org.junit.jupiter.api.Assertions.assertDoesNotThrow(
          () -> PathCanonicalizer.checkRouteRules(c.path(), c.rules()));
      return;
    }
    RequestRejectedException e = assertThrows(RequestRejectedException.class,
        () -> PathCanonicalizer.checkRouteRules(c.path(), c.rules()));
    assertEquals(400, e.status());
    assertEquals(c.code(), e.code());
  }

  @Test
  void aFragmentInThePathIsRefused() {
    assertEquals("bad_request_target", org.junit.jupiter.api.Assertions.assertThrows(RequestRejectedException.class,
        () -> PathCanonicalizer.canonicalize("/crm/a#frag")).code());
  }

  @Test
  void escapesAcceptOnlyAsciiHexDigits() {
    assertEquals("bad_percent_encoding", org.junit.jupiter.api.Assertions.assertThrows(RequestRejectedException.class,
        () -> PathCanonicalizer.canonicalize("/crm/%\u0664\u0661")).code());
  }
}
