package io.countersign.proxy.canonical;

import static io.countersign.proxy.canonical.CanonicalFixtures.accept;
import static io.countersign.proxy.canonical.CanonicalFixtures.refuse;
import static io.countersign.proxy.canonical.CanonicalFixtures.request;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.netty.handler.codec.http.FullHttpRequest;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every body kind becomes one form the policy reads, and the bytes forwarded are the bytes that
 * form was read from; what two parsers could read differently is refused.
 */
class BodyKindsTest {
  private static final String FORM = "application/x-www-form-urlencoded";
  private static final String MP = "multipart/form-data; boundary=b0undary";

  @Test
  void aFormBecomesNamesToListsAndTheCanonicalBytesAreForwarded() throws Exception {
    accept(request("PATCH", "/crm/v3/contacts/1",
        "email=a%40b.example&tags[]=x&tags[]=y&metadata%5Border_id%5D=42&note=hi+there%21;x",
        "Content-Type", FORM + "; charset=UTF-8"), c -> {
          assertEquals(BodyKind.FORM, c.content().kind());
          assertEquals("{\"email\":[\"a@b.example\"],\"tags[]\":[\"x\",\"y\"],"
              + "\"metadata[order_id]\":[\"42\"],\"note\":[\"hi there!;x\"]}",
              c.content().view().toString());
          assertEquals("{\"email\":[\"a@b.example\"],\"tags\":[\"x\",\"y\"],"
              + "\"metadata\":{\"order_id\":[\"42\"]},\"note\":[\"hi there!;x\"]}",
              c.content().nested().toString());
          String forwarded = c.body().toString(StandardCharsets.US_ASCII);
          assertEquals("email=a@b.example&tags%5B%5D=x&tags%5B%5D=y&metadata%5Border_id%5D=42"
              + "&note=hi%20there!%3Bx", forwarded);
          assertEquals(sha256(forwarded.getBytes(StandardCharsets.US_ASCII)), c.bodySha256());
        });
  }

  @Test
  void aFormAlreadyInCanonicalFormIsForwardedWithoutACopy() throws Exception {
    FullHttpRequest r = request("POST", "/crm/v3/notes", "a=1&b=two", "Content-Type", FORM);
    accept(r, c -> {
      assertEquals("a=1&b=two", c.body().toString(StandardCharsets.US_ASCII));
      assertSame(r.content().unwrap() == null ? r.content() : r.content().unwrap(),
          c.body().unwrap(), "a retained slice of the received body");
    });
  }

  @Test
  void aMultipartBodyBecomesFieldsAndFilesAndIsForwardedAsReceived() throws Exception {
    String body = "--b0undary\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n"
        + "dispute_evidence\r\n--b0undary\r\nContent-Disposition: form-data; name=\"file\";"
        + " filename=\"r\u00e9sum\u00e9.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4 x"
        + "\r\n--b0undary\r\nContent-Disposition: form-data; name=\"owner[id]\"\r\n\r\n7\r\n"
        + "--b0undary--\r\n";
    accept(request("POST", "/crm/v3/notes", body, "Content-Type", MP), c -> {
      assertEquals(BodyKind.MULTIPART, c.content().kind());
      String sha = sha256("%PDF-1.4 x".getBytes(StandardCharsets.UTF_8));
      assertEquals("{\"fields\":{\"purpose\":[\"dispute_evidence\"],\"owner[id]\":[\"7\"]},"
          + "\"files\":[{\"name\":\"file\",\"filename\":\"r\u00e9sum\u00e9.pdf\","
          + "\"type\":\"application/pdf\",\"size\":10,\"sha256\":\"" + sha + "\"}]}",
          c.content().view().toString());
      assertEquals("[\"7\"]", c.content().nested().path("owner").path("id").toString());
      assertEquals(body, c.body().toString(StandardCharsets.UTF_8));
    });
  }

  @Test
  void anEmptyBodyIsNoneWhateverItsType() throws Exception {
    accept(request("POST", "/crm/v3/notes", "", "Content-Type", "application/pdf"),
        c -> assertEquals(BodyKind.NONE, c.content().kind()));
  }

  @Test
  void anOpaqueBodyIsForwardedOnlyWhereTheRouteAllowsIt() throws Exception {
    refuse(request("PUT", "/crm/v3/files/1", new byte[] {1, 2, 3}, "Content-Type",
        "application/octet-stream"), 415, "body_type_unsupported");
    refuse(request("PUT", "/crm/v3/files/1", "plain bytes"), 415, "body_type_missing");
    accept(request("PUT", "/loose/v3/files/1", new byte[] {1, 2, 3}, "Content-Type",
        "application/octet-stream"), c -> {
          assertEquals(BodyKind.OPAQUE, c.content().kind());
          assertNull(c.content().view());
          assertEquals("application/octet-stream", c.content().mediaType());
        });
    accept(request("PUT", "/loose/v3/files/1", "plain bytes"),
        c -> assertEquals(BodyKind.OPAQUE, c.content().kind()));
  }

  /**
   * @param note what the case is about
   * @param request builds the request
   * @param status the expected status
   * @param code the expected error code
   */
  record Refused(String note, Supplier<FullHttpRequest> request, int status, String code) {
    @Override
    public String toString() {
      return note;
    }
  }

  private static Refused form(String note, String body, String code) {
    return new Refused(note, () -> request("POST", "/crm/v3/notes", body, "Content-Type", FORM),
        400, code);
  }

  private static Refused multipart(String note, String contentType, String body, String code) {
    return new Refused(note, () -> request("POST", "/crm/v3/notes", body, "Content-Type",
        contentType), code.equals("charset_unsupported") ? 415 : 400, code);
  }

  private static String part(String headers, String content) {
    return "--b0undary\r\n" + headers + "\r\n\r\n" + content + "\r\n";
  }

  private static final String END = "--b0undary--\r\n";
  private static final String NAMED = "Content-Disposition: form-data; name=\"a\"";

  static Stream<Refused> refusals() {
    return Stream.of(
        new Refused("JSON declared as text/plain", () -> request("PATCH", "/crm/v3/contacts/1",
            "{\"email\":\"x@y\"}", "Content-Type", "text/plain"), 415, "body_type_mismatch"),
        new Refused("JSON without a Content-Type", () -> request("PATCH", "/crm/v3/contacts/1",
            " [1,2]"), 415, "body_type_mismatch"),
        new Refused("JSON declared as a form", () -> request("PATCH", "/crm/v3/contacts/1",
            "{\"a\":1}", "Content-Type", FORM), 415, "body_type_mismatch"),
        new Refused("JSON declared as octet-stream, even where opaque bodies are allowed",
            () -> request("PUT", "/loose/v3/f", "{\"a\":1}", "Content-Type",
                "application/octet-stream"), 415, "body_type_mismatch"),
        new Refused("JSON in latin-1", () -> request("POST", "/crm/v3/notes", "{}",
            "Content-Type", "application/json; charset=iso-8859-1"), 415, "charset_unsupported"),
        new Refused("a form in windows-1252", () -> request("POST", "/crm/v3/notes", "a=1",
            "Content-Type", FORM + "; charset=windows-1252"), 415, "charset_unsupported"),
        new Refused("a charset given twice", () -> request("POST", "/crm/v3/notes", "a=1",
            "Content-Type", FORM + "; charset=utf-8; charset=latin1"), 400, "bad_content_type"),
        new Refused("two media types in one Content-Type", () -> request("POST", "/crm/v3/notes",
            "a=1", "Content-Type", "text/plain, application/json"), 400, "bad_content_type"),
        new Refused("a JSON body with a byte-order mark", () -> request("POST", "/crm/v3/notes",
            new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF, '{', '}'}, "Content-Type",
            "application/json"), 400, "bad_json_body"),
        new Refused("a JSON body in UTF-16", () -> request("POST", "/crm/v3/notes",
            new byte[] {'{', 0, '}', 0}, "Content-Type", "application/json"), 400,
            "bad_json_body"),
        new Refused("a JSON string with a lone surrogate", () -> request("POST", "/crm/v3/notes",
            "{\"a\\ud800\":1}", "Content-Type", "application/json"), 400, "bad_json_body"),
        new Refused("text that is not UTF-8", () -> request("POST", "/crm/v3/notes",
            new byte[] {'a', (byte) 0xFF}, "Content-Type", "text/plain"), 400, "bad_encoding"),
        new Refused("text with a NUL", () -> request("POST", "/crm/v3/notes", "a\u0000b",
            "Content-Type", "text/plain"), 400, "bad_text_body"),
        form("an invalid escape", "a=%zz", "bad_percent_encoding"),
        form("an escape that is not UTF-8", "a=%FF", "bad_encoding"),
        form("a raw space", "a=b c", "bad_character"),
        form("a raw UTF-8 byte", "a=caf\u00e9", "bad_character"),
        form("an encoded NUL in a value", "a=1%00", "form_control_character"),
        form("a control character in a name", "a%0A=1", "form_control_character"),
        form("a dot in a name, which PHP reads as '_'", "discount.pct=90", "form_name_ambiguous"),
        form("a space in a name", "discount+pct=90", "form_name_ambiguous"),
        form("an unclosed bracket", "a[b=1", "form_name_ambiguous"),
        form("text after a bracket", "a[b]c=1", "form_name_ambiguous"),
        form("'[]' before another key", "a[][b]=1", "form_name_ambiguous"),
        form("six levels of nesting", "a[1][2][3][4][5][6]=1", "form_name_ambiguous"),
        form("a value and an object of one name", "owner=1&owner[id]=2", "form_name_ambiguous"),
        form("a list and a value of one name", "tags[]=1&tags=2", "form_name_ambiguous"),
        form("an empty base name", "[a]=1", "form_name_ambiguous"),
        new Refused("a _charset_ other than UTF-8", () -> request("POST", "/crm/v3/notes",
            "_charset_=shift_jis&a=1", "Content-Type", FORM), 415, "charset_unsupported"),
        form("more than 1000 fields", "a=1&".repeat(1001), "body_too_many_fields"),
        multipart("no boundary", "multipart/form-data", part(NAMED, "1") + END,
            "bad_multipart_body"),
        multipart("a boundary given twice", MP + "; boundary=other", part(NAMED, "1") + END,
            "bad_content_type"),
        multipart("a boundary with a character RFC 2046 forbids",
            "multipart/form-data; boundary=\"a@b\"", "--a@b\r\n" + NAMED + "\r\n\r\n1\r\n--a@b--",
            "bad_multipart_body"),
        multipart("a preamble", MP, "hello\r\n" + part(NAMED, "1") + END, "bad_multipart_body"),
        multipart("an epilogue", MP, part(NAMED, "1") + END + "trailer", "bad_multipart_body"),
        multipart("no closing delimiter", MP, part(NAMED, "1"), "bad_multipart_body"),
        multipart("the boundary inside a part", MP, part(NAMED, "x--b0undary y") + END,
            "bad_multipart_body"),
        multipart("a delimiter after a bare LF", MP, "--b0undary\r\n" + NAMED + "\r\n\r\n1\n"
            + END, "bad_multipart_body"),
        multipart("transport padding after a delimiter", MP, "--b0undary \r\n" + NAMED
            + "\r\n\r\n1\r\n" + END, "bad_multipart_body"),
        multipart("a longer boundary that starts with this one", MP, part(NAMED, "1")
            + "--b0undaryX\r\n" + NAMED + "\r\n\r\n2\r\n" + END, "bad_multipart_body"),
        multipart("Content-Transfer-Encoding", MP, part(NAMED
            + "\r\nContent-Transfer-Encoding: base64", "MQ==") + END, "bad_multipart_body"),
        multipart("a folded part header", MP, part("Content-Disposition: form-data;\r\n"
            + " name=\"a\"", "1") + END, "bad_multipart_body"),
        multipart("a bare LF in part headers", MP, part(NAMED + "\nX: y", "1") + END,
            "bad_multipart_body"),
        multipart("Content-Disposition twice", MP, part(NAMED + "\r\n" + NAMED, "1") + END,
            "bad_multipart_body"),
        multipart("a name given twice", MP, part("Content-Disposition: form-data; name=\"a\";"
            + " name=\"b\"", "1") + END, "bad_multipart_body"),
        multipart("filename*", MP, part("Content-Disposition: form-data; name=\"f\";"
            + " filename*=UTF-8''x.pdf", "1") + END, "bad_multipart_body"),
        multipart("a backslash escape in a quoted name", MP, part("Content-Disposition:"
            + " form-data; name=\"a\\\"b\"", "1") + END, "bad_multipart_body"),
        multipart("a disposition other than form-data", MP, part("Content-Disposition:"
            + " attachment; name=\"a\"", "1") + END, "bad_multipart_body"),
        multipart("a part without a name", MP, part("Content-Disposition: form-data", "1") + END,
            "bad_multipart_body"),
        multipart("a nested multipart part", MP, part(NAMED + "\r\nContent-Type: multipart/mixed;"
            + " boundary=x", "--x--") + END, "bad_multipart_body"),
        multipart("a text field in latin-1", MP, part(NAMED + "\r\nContent-Type: text/plain;"
            + " charset=iso-8859-1", "1") + END, "charset_unsupported"),
        multipart("a text field that is not UTF-8", MP, "--b0undary\r\n" + NAMED
            + "\r\n\r\n\u00ff\u00fe", "bad_multipart_body"),
        multipart("a field name frameworks read differently", MP, part("Content-Disposition:"
            + " form-data; name=\"discount.pct\"", "90") + END, "form_name_ambiguous"),
        new Refused("two JSON keys equal when case is ignored", () -> request("PATCH",
            "/crm/v3/deals/1", "{\"discount_pct\":10,\"Discount_Pct\":90}", "Content-Type",
            "application/json"), 400, "name_case_collision"),
        new Refused("a nested key and its Kelvin-sign twin (Unicode simple folding)", () -> request(
            "PATCH", "/crm/v3/deals/1", "{\"deal\":{\"kind\":\"a\",\"\u212Aind\":\"b\"}}",
            "Content-Type", "application/json"), 400, "name_case_collision"),
        new Refused("a key twin inside an array's object", () -> request("PATCH",
            "/crm/v3/deals/1", "[{\"amount\":1,\"AMOUNT\":2}]", "Content-Type",
            "application/json"), 400, "name_case_collision"),
        form("two form names equal when case is ignored", "discount_pct=10&DISCOUNT_PCT=90",
            "name_case_collision"),
        multipart("two multipart fields equal when case is ignored", MP, part(NAMED, "1")
            + part("Content-Disposition: form-data; name=\"A\"", "2") + END,
            "name_case_collision"),
        new Refused("two query names equal when case is ignored", () -> request("GET",
            "/crm/v3/deals?limit=1&Limit=1000", ""), 400, "name_case_collision"));
  }

  @Test
  void aRouteWhoseUpstreamTellsCaseApartKeepsNamesThatDifferByCase() throws Exception {
    accept(request("PATCH", "/loose/v3/deals/1", "{\"a\":1,\"A\":2}", "Content-Type",
        "application/json"), c -> assertEquals(2, c.content().view().size()));
    accept(request("GET", "/loose/v3/deals?limit=1&Limit=2", ""),
        c -> assertEquals(2, c.query().params().size()));
    accept(request("POST", "/crm/v3/notes", "a=1&a=2&b=3", "Content-Type", FORM),
        c -> assertEquals(BodyKind.FORM, c.content().kind())); // a repeated name is a list
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("refusals")
  void aBodyTwoParsersCouldReadDifferentlyIsRefused(Refused c) {
    refuse(c.request().get(), c.status(), c.code());
  }

  private static String sha256(byte[] bytes) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }
}
