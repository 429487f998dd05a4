package io.countersign.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.countersign.proxy.config.ProxyConfig.Engine;
import io.countersign.proxy.support.LoopbackUpstream;
import io.countersign.proxy.support.ProxyFixture;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One keep-alive connection carries many exchanges; pipelined requests are answered in order. */
class KeepAliveIT {

  @Test
  void pipelinedRequestsAreAnsweredInOrderAndBodiesThatLookLikeFoldedHeadersPass(@TempDir Path tmp)
      throws Exception {
    try (LoopbackUpstream upstream = new LoopbackUpstream();
        ProxyFixture proxy = ProxyFixture.start(Engine.WASM, upstream, tmp)) {
      // A body whose bytes contain CRLF + space: only header lines may not start with white space.
      String note = "{\"deal_id\": 42,\r\n \"text\": \"line one\"}";
      String pipelined =
          "GET /crm/v3/deals/1 HTTP/1.1\r\nHost: p\r\n\r\n"
              + "POST /crm/v3/notes HTTP/1.1\r\nHost: p\r\nContent-Type: application/json\r\nContent-Length: "
              + note.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + note
              + "DELETE /crm/v3/deals/3 HTTP/1.1\r\nHost: p\r\n\r\n"
              + "GET /crm/v3/deals/4 HTTP/1.1\r\nHost: p\r\nConnection: close\r\n\r\n";
      String responses;
      try (Socket s = new Socket("127.0.0.1", proxy.address().getPort())) {
        s.setSoTimeout(20_000);
        s.getOutputStream().write(pipelined.getBytes(StandardCharsets.UTF_8));
        s.getOutputStream().flush();
        InputStream in = s.getInputStream();
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        in.transferTo(all); // the last request asks to close, so this ends
        responses = all.toString(StandardCharsets.UTF_8);
      }
      Matcher m = Pattern.compile("HTTP/1.1 (\\d{3})").matcher(responses);
      StringBuilder statuses = new StringBuilder();
      while (m.find()) {
        statuses.append(m.group(1)).append(' ');
      }
      assertEquals("200 201 403 200 ", statuses.toString(), responses);
      assertEquals(3, upstream.received().size());
      assertEquals("/v3/deals/1", upstream.received().get(0).target());
      assertEquals(note, upstream.received().get(1).body());
      assertEquals("/v3/deals/4", upstream.received().get(2).target());
      assertTrue(responses.contains("agents may not delete deals"));
    }
  }
}
