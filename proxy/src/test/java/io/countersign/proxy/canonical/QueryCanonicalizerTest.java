package io.countersign.proxy.canonical;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.countersign.proxy.canonical.QueryCanonicalizer.CanonicalQuery;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The query rule: order kept, one spelling per character, and what the policy reads. */
class QueryCanonicalizerTest {

  /**
   * @param note what the case is about
   * @param raw the query as received (after '?')
   * @param canonical the expected canonical query
   * @param params the expected decoded parameters, in order
   */
  record Accepted(String note, String raw, String canonical, Map<String, List<String>> params) {
    @Override
    public String toString() {
      return note;
    }
  }

  /**
   * @param note what the case is about
   * @param raw the query as received
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
        new Accepted("one pair stays as sent", "a=1", "a=1", Map.of("a", List.of("1"))),
        new Accepted("order is kept, not sorted", "b=2&a=1", "b=2&a=1",
            Map.of("b", List.of("2"), "a", List.of("1"))),
        new Accepted("repeated names keep their values in order", "a=1&b=2&a=3", "a=1&b=2&a=3",
            Map.of("a", List.of("1", "3"), "b", List.of("2"))),
        new Accepted("empty pairs are dropped", "&a=1&&b=2&", "a=1&b=2",
            Map.of("a", List.of("1"), "b", List.of("2"))),
        new Accepted("a name without '=' stays without it", "flag", "flag", Map.of("flag", List.of(""))),
        new Accepted("a name with '=' and no value keeps the '='", "flag=", "flag=",
            Map.of("flag", List.of(""))),
        new Accepted("an empty name is kept", "=v", "=v", Map.of("", List.of("v"))),
        new Accepted("a raw '+' is a space, written %20", "q=a+b", "q=a%20b", Map.of("q", List.of("a b"))),
        new Accepted("%20 is a space", "q=a%20b", "q=a%20b", Map.of("q", List.of("a b"))),
        new Accepted("%2B is a plus, written %2B", "q=a%2Bb", "q=a%2Bb", Map.of("q", List.of("a+b"))),
        new Accepted("lower-case %2b is a plus, written %2B", "q=a%2bb", "q=a%2Bb",
            Map.of("q", List.of("a+b"))),
        new Accepted("'+' in a name is a space too", "first+name=x", "first%20name=x",
            Map.of("first name", List.of("x"))),
        new Accepted("'=' inside a value is escaped", "a=b=c", "a=b%3Dc", Map.of("a", List.of("b=c"))),
        new Accepted("an escaped '&' stays escaped", "a=%26", "a=%26", Map.of("a", List.of("&"))),
        new Accepted("'/' and '?' stay literal", "next=/a/b?c", "next=/a/b?c",
            Map.of("next", List.of("/a/b?c"))),
        new Accepted("escaped '/' and '?' are decoded", "next=%2Fa%3F", "next=/a?",
            Map.of("next", List.of("/a?"))),
        new Accepted("escaped unreserved characters are decoded", "a=%7E%41%2e", "a=~A.",
            Map.of("a", List.of("~A."))),
        new Accepted("raw ASCII outside the literal set is escaped", "a=[1]\"", "a=%5B1%5D%22",
            Map.of("a", List.of("[1]\""))),
        new Accepted("UTF-8 round trips", "name=J%c3%bcrgen", "name=J%C3%BCrgen",
            Map.of("name", List.of("J\u00fcrgen"))),
        new Accepted("a four-byte character round trips", "e=%F0%9F%98%80", "e=%F0%9F%98%80",
            Map.of("e", List.of("\uD83D\uDE00"))),
        new Accepted("an escaped percent stays escaped", "p=100%25", "p=100%25",
            Map.of("p", List.of("100%"))));
  }

  static Stream<Refused> refused() {
    return Stream.of(
        new Refused("a fragment", "a=1#top", "bad_request_target"),
        new Refused("a '%' at the end", "a=%", "bad_percent_encoding"),
        new Refused("a '%' with one hex digit", "a=%4", "bad_percent_encoding"),
        new Refused("a '%' with non-hex digits", "a=%G1", "bad_percent_encoding"),
        new Refused("a malformed escape in a name", "%x=1", "bad_percent_encoding"),
        new Refused("a byte that is never UTF-8", "a=%FF", "bad_encoding"),
        new Refused("a truncated UTF-8 sequence", "a=%E2%82", "bad_encoding"),
        new Refused("an encoded NUL", "a=%00", "query_control_character"),
        new Refused("an encoded line feed", "a=x%0Ay", "query_control_character"),
        new Refused("an encoded DEL in a name", "%7F=1", "query_control_character"),
        new Refused("a raw tab", "a=x\ty", "bad_character"),
        new Refused("a raw non-ASCII character", "a=caf\u00e9", "bad_character"));
  }

  @ParameterizedTest
  @MethodSource("accepted")
  void validQueriesBecomeTheirCanonicalFormAndParameters(Accepted c)
      throws RequestRejectedException {
    CanonicalQuery q = QueryCanonicalizer.canonicalize(c.raw());
    assertEquals(c.canonical(), q.canonical());
    assertEquals(c.params(), q.params());
  }

  @ParameterizedTest
  @MethodSource("accepted")
  void parameterNamesKeepRequestOrder(Accepted c) throws RequestRejectedException {
    CanonicalQuery q = QueryCanonicalizer.canonicalize(c.raw());
    List<String> expected =
        Stream.of(c.canonical().split("&"))
            .map(pair -> pair.split("=", -1)[0])
            .map(QueryCanonicalizerTest::decodeName)
            .distinct()
            .toList();
    assertEquals(expected, List.copyOf(q.params().keySet()));
  }

  @ParameterizedTest
  @MethodSource("refused")
  void invalidQueriesAreRefusedWithA400NamingTheRule(Refused c) {
    RequestRejectedException e =
        assertThrows(RequestRejectedException.class, () -> QueryCanonicalizer.canonicalize(c.raw()));
    assertEquals(400, e.status());
    assertEquals(c.code(), e.code());
  }

  @ParameterizedTest
  @MethodSource("accepted")
  void canonicalizingACanonicalQueryChangesNothing(Accepted c) throws RequestRejectedException {
    CanonicalQuery once = QueryCanonicalizer.canonicalize(c.raw());
    CanonicalQuery twice = QueryCanonicalizer.canonicalize(once.canonical());
    assertEquals(once.canonical(), twice.canonical());
    assertEquals(once.params(), twice.params());
  }

  @Test
  void noQueryAndAnEmptyQueryHaveNoCanonicalForm() throws RequestRejectedException {
    for (String raw : new String[] {null, "", "&", "&&&"}) {
      CanonicalQuery q = QueryCanonicalizer.canonicalize(raw);
      assertNull(q.canonical(), String.valueOf(raw));
      assertTrue(q.params().isEmpty(), String.valueOf(raw));
    }
  }

  @Test
  void plusAndSpaceAndEscapedPlusAreThreeSpellingsOfTwoValues() throws RequestRejectedException {
    CanonicalQuery q = QueryCanonicalizer.canonicalize("a=x+y&b=x%20y&c=x%2By");
    assertEquals("a=x%20y&b=x%20y&c=x%2By", q.canonical());
    assertEquals(q.params().get("a"), q.params().get("b"));
    assertEquals(List.of("x+y"), q.params().get("c"));
  }

  @Test
  void decodedParametersCannotBeChangedByTheirReaders() throws RequestRejectedException {
    CanonicalQuery q = QueryCanonicalizer.canonicalize("a=1&a=2");
    assertThrows(UnsupportedOperationException.class, () -> q.params().put("b", List.of()));
    assertThrows(UnsupportedOperationException.class, () -> q.params().get("a").add("3"));
  }

  private static String decodeName(String canonicalName) {
    try {
      return QueryCanonicalizer.canonicalize(canonicalName + "=").params().keySet().iterator().next();
    } catch (RequestRejectedException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void aRawSpaceInAQueryIsRefused() {
    assertEquals("bad_character", org.junit.jupiter.api.Assertions.assertThrows(RequestRejectedException.class,
        () -> QueryCanonicalizer.canonicalize("a b=c")).code());
  }
}
