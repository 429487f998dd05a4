package io.countersign.proxy.mcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** A tools/list answer loses exactly the tools the policy does not list, and nothing else. */
class ToolListFilterTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static final String LIST = "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{\"tools\":["
      + "{\"name\":\"lookup_customer\",\"description\":\"Find a customer\",\"inputSchema\":{\"type\":\"object\"}},"
      + "{\"name\":\"delete_customer\",\"inputSchema\":{\"type\":\"object\"}},"
      + "{\"name\":\"issue_refund\",\"inputSchema\":{\"type\":\"object\"},\"annotations\":{\"destructiveHint\":true}}"
      + "],\"nextCursor\":\"page-2\",\"_meta\":{\"k\":1}}}";

  @Test
  void toolsThePolicyDoesNotListAreTakenOutAndTheRestIsKeptInOrder() throws Exception {
    ToolListFilter filter = new ToolListFilter(Set.of("lookup_customer", "issue_refund")::contains);
    ToolListFilter.Filtered f = filter.filter(bytes(LIST));
    assertEquals(List.of("delete_customer"), f.removed());
    JsonNode out = JSON.readTree(f.message());
    JsonNode expected = JSON.readTree(LIST);
    ((com.fasterxml.jackson.databind.node.ArrayNode) expected.path("result").path("tools")).remove(1);
    assertEquals(expected, out);
    assertEquals(List.of("jsonrpc", "id", "result"), names(out));
    assertEquals(List.of("tools", "nextCursor", "_meta"), names(out.path("result")));
  }

  @Test
  void aListWithNothingToRemoveIsPassedOnAsTheSameBytes() throws Exception {
    byte[] in = bytes(LIST.replace("\"id\":3", "\"id\" : 3"));
    ToolListFilter.Filtered f = new ToolListFilter(name -> true).filter(in);
    assertSame(in, f.message());
    assertEquals(List.of(), f.removed());
  }

  @Test
  void theDecisionsListableToolsObligationDecidesAndItsAbsenceListsNothing() throws Exception {
    JsonNode decision = JSON.readTree("{\"action\":\"allow\",\"mcp\":{\"listable_tools\":"
        + "[\"lookup_customer\",7]}}");
    ToolListFilter.Filtered f = ToolListFilter.fromDecision(decision).filter(bytes(LIST));
    assertEquals(List.of("delete_customer", "issue_refund"), f.removed());
    ToolListFilter.Filtered none = ToolListFilter.fromDecision(JSON.readTree("{\"action\":\"allow\"}"))
        .filter(bytes(LIST));
    assertEquals(3, none.removed().size(), "fail closed: no obligation, no tools");
    assertEquals(0, JSON.readTree(none.message()).path("result").path("tools").size());
    assertEquals(3, ToolListFilter.fromDecision(null).filter(bytes(LIST)).removed().size());
  }

  @Test
  void aToolWithoutAStringNameIsTakenOut() throws Exception {
    String list = "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"tools\":[{\"name\":5},{\"title\":\"x\"},"
        + "{\"name\":\"lookup_customer\"}]}}";
    ToolListFilter.Filtered f = new ToolListFilter(name -> true).filter(bytes(list));
    assertEquals(Arrays.asList(null, null), f.removed());
    assertEquals(1, JSON.readTree(f.message()).path("result").path("tools").size());
  }

  @Test
  void anErrorAnswerPassesUnchanged() throws Exception {
    byte[] in = bytes("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32601,\"message\":\"no\"}}");
    assertSame(in, new ToolListFilter(name -> false).filter(in).message());
  }

  @Test
  void whatCannotBeAToolListIsRefusedSoTheProxyFailsClosed() {
    ToolListFilter filter = new ToolListFilter(name -> true);
    for (String bad : List.of("not json", "[1]", "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"tools\":{}}}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"tools\":[]}} {}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"tools\":[]},\"result\":{\"tools\":[]}}")) {
      ToolListFilter.UnreadableToolList e =
          assertThrows(ToolListFilter.UnreadableToolList.class, () -> filter.filter(bytes(bad)), bad);
      assertTrue(e.getMessage().contains("tools/list answer"), e.getMessage());
    }
  }

  @Test
  void theFilteredMessageIsStillOneValidJsonRpcMessage() throws Exception {
    byte[] out = new ToolListFilter(name -> false).filter(bytes(LIST)).message();
    JsonNode m = JSON.readTree(out);
    assertEquals("2.0", m.path("jsonrpc").asText());
    assertEquals(3, m.path("id").asInt());
    assertEquals("page-2", m.path("result").path("nextCursor").asText());
  }

  private static List<String> names(JsonNode o) {
    List<String> n = new java.util.ArrayList<>();
    o.fieldNames().forEachRemaining(n::add);
    return n;
  }
}
