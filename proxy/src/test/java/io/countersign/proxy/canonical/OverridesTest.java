package io.countersign.proxy.canonical;

import static io.countersign.proxy.canonical.CanonicalFixtures.accept;
import static io.countersign.proxy.canonical.CanonicalFixtures.refuse;
import static io.countersign.proxy.canonical.CanonicalFixtures.request;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Headers and parameters that change what the upstream does: refused on a strict route, stripped
 * on a route that strips them, and in both cases never shown to the policy or forwarded.
 */
class OverridesTest {

  static Stream<String> overrideHeaders() {
    return Stream.of("X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override",
        "X-Original-URL", "X-Rewrite-URL", "X-Original-URI", "X-Envoy-Original-Path", "X-Host",
        "X-Forwarded-Host", "X-Forwarded-Prefix", "X-Forwarded-For", "Forwarded", "X-Real-IP",
        "True-Client-IP", "Via", "X-Remote-User", "X-Auth-Request-Email", "X-Forwarded-User",
        "X-MS-CLIENT-PRINCIPAL-NAME", "X-Goog-Authenticated-User-Email", "X-Amzn-Oidc-Identity",
        "X-Middleware-Subrequest", "X_HTTP_Method_Override", "x-http-method-override");
  }

  @ParameterizedTest
  @MethodSource("overrideHeaders")
  void anOverrideHeaderIsRefusedOnAStrictRouteNamingTheHeader(String name) {
    RequestRejectedException e =
        refuse(request("GET", "/crm/v3/deals", "", name, "DELETE"), 400, "override_header");
    assertTrue(e.getMessage().contains(name), e.getMessage());
  }

  @ParameterizedTest
  @MethodSource("overrideHeaders")
  void anOverrideHeaderIsStrippedAndRecordedOnARouteThatStripsThem(String name) throws Exception {
    accept(request("GET", "/loose/v3/deals", "", name, "DELETE", "Accept", "application/json"),
        c -> {
          assertFalse(c.headers().stream().anyMatch(h -> h.getValue().equals("DELETE")),
              c.headers().toString());
          assertEquals("application/json", c.headers().get(0).getValue());
          assertEquals(1, c.stripped().size());
          assertTrue(c.stripped().get(0).startsWith("header:"), c.stripped().toString());
        });
  }

  @Test
  void anUnderscoreSpellingOfADroppedHeaderIsRefused() {
    for (String name : new String[] {"Content_Length", "X_Countersign_Account", "Transfer_Encoding",
        "Proxy_Authorization", "Content_Type", "Content_Encoding"}) {
      refuse(request("GET", "/crm/v3/deals", "", name, "x"), 400, "header_name_ambiguous");
    }
  }

  @Test
  void anOrdinaryHeaderWithAnUnderscoreIsForwarded() throws Exception {
    accept(request("GET", "/crm/v3/deals", "", "X_Request_Tag", "t1"),
        c -> assertTrue(c.headers().stream().anyMatch(h -> h.getKey().equals("x_request_tag"))));
  }

  static Stream<String> overrideParameters() {
    return Stream.of("_method", "_METHOD", "_HttpMethod", "_method_override",
        "X-HTTP-Method-Override", "_content_type", "_content", "_method[]");
  }

  @ParameterizedTest
  @MethodSource("overrideParameters")
  void anOverrideParameterInTheQueryIsRefusedOnAStrictRoute(String name) {
    refuse(request("POST", "/crm/v3/notes?" + name + "=DELETE", ""), 400, "override_parameter");
  }

  @ParameterizedTest
  @MethodSource("overrideParameters")
  void anOverrideParameterInAFormIsRefusedOnAStrictRoute(String name) {
    refuse(request("POST", "/crm/v3/notes", name + "=DELETE&a=1", "Content-Type",
        "application/x-www-form-urlencoded"), 400, "override_parameter");
  }

  @Test
  void anOverrideParameterInAMultipartBodyIsRefusedOnAStrictRoute() {
    refuse(request("POST", "/crm/v3/notes", multipart("_method", "DELETE"), "Content-Type",
        "multipart/form-data; boundary=XyZ"), 400, "override_parameter");
  }

  @Test
  void overrideParametersAreStrippedFromQueryFormAndMultipartOnARouteThatStripsThem()
      throws Exception {
    accept(request("POST", "/loose/v3/notes?a=1&_method=DELETE&b=2", ""), c -> {
      assertEquals("a=1&b=2", c.query().canonical());
      assertEquals(List.of("a", "b"), List.copyOf(c.query().params().keySet()));
      assertEquals(List.of("query:_method"), c.stripped());
    });
    accept(request("POST", "/loose/v3/notes", "_method=DELETE&note=hi", "Content-Type",
        "application/x-www-form-urlencoded"), c -> {
          assertEquals("note=hi", c.body().toString(StandardCharsets.US_ASCII));
          assertEquals("[\"hi\"]", c.content().view().path("note").toString());
          assertFalse(c.content().view().has("_method"));
          assertEquals(List.of("form:_method"), c.stripped());
        });
    String body = multipart("_method", "DELETE");
    accept(request("POST", "/loose/v3/notes", body, "Content-Type",
        "multipart/form-data; boundary=XyZ"), c -> {
          String sent = c.body().toString(StandardCharsets.UTF_8);
          assertFalse(sent.contains("_method"), sent);
          assertTrue(sent.contains("name=\"note\""), sent);
          assertTrue(sent.endsWith("--XyZ--\r\n"), sent);
          assertEquals(List.of("multipart:_method"), c.stripped());
          assertEquals(Canonicalizer.sha256(c.body()), c.bodySha256());
        });
  }

  @Test
  void everyListedOverrideHeaderIsDocumentedInCanonicalizationMd() throws Exception {
    String doc = java.nio.file.Files.readString(java.nio.file.Path.of(
        System.getProperty("countersign.docs.dir", "../docs"), "canonicalization.md"))
        .toLowerCase(java.util.Locale.ROOT);
    for (String name : Overrides.headerNames()) {
      assertTrue(doc.contains("`" + name + "`"), name + " is refused or stripped but not in the doc");
    }
  }

  /** A multipart body with the field {@code name} and a field {@code note}. */
  private static String multipart(String name, String value) {
    return "--XyZ\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value
        + "\r\n--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhi\r\n--XyZ--\r\n";
  }
}
