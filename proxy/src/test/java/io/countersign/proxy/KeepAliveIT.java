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

  @Test
  void aConnectionPausedForPipelinedRequestsIsReadAgainOnceTheyAreAnswered(@TempDir Path tmp)
      throws Exception {
    try (LoopbackUpstream upstream = new LoopbackUpstream();
        ProxyFixture proxy = ProxyFixture.start(Engine.WASM, upstream, tmp)) {
      try (Socket s = new Socket("127.0.0.1", proxy.address().getPort())) {
        s.setSoTimeout(20_000);
        String three = "GET /crm/v3/deals/1 HTTP/1.1\r\nHost: p\r\n\r\n".repeat(3);
        s.getOutputStream().write(three.getBytes(StandardCharsets.UTF_8));
        s.getOutputStream().flush();
        InputStream in = s.getInputStream();
        StringBuilder seen = new StringBuilder();
        while (count(seen.toString()) < 3) { // bounded by the socket timeout
          int b = in.read();
          assertTrue(b >= 0, "closed early: " + seen);
          seen.append((char) b);
        }
        s.getOutputStream().write("GET /crm/v3/deals/2 HTTP/1.1\r\nHost: p\r\nConnection: close\r\n\r\n"
            .getBytes(StandardCharsets.UTF_8));
        s.getOutputStream().flush();
        ByteArrayOutputStream rest = new ByteArrayOutputStream();
        in.transferTo(rest);
        assertEquals(4, count(seen + rest.toString(StandardCharsets.UTF_8)), seen + rest.toString());
      }
      assertEquals(4, upstream.received().size());
    }
  }

  @Test
  void anAgentPipeliningPastTheBoundIsDisconnected(@TempDir Path tmp) throws Exception {
    try (LoopbackUpstream upstream = new LoopbackUpstream();
        ProxyFixture proxy = ProxyFixture.start(Engine.WASM, upstream, tmp)) {
      int sent = 40; // ProxyFixture.limits(): max_pipelined 8
      String burst = "GET /crm/v3/deals/1 HTTP/1.1\r\nHost: p\r\n\r\n".repeat(sent);
      ByteArrayOutputStream all = new ByteArrayOutputStream();
      try (Socket s = new Socket("127.0.0.1", proxy.address().getPort())) {
        s.setSoTimeout(20_000);
        s.getOutputStream().write(burst.getBytes(StandardCharsets.UTF_8));
        s.getOutputStream().flush();
        try {
          s.getInputStream().transferTo(all); // ends when the proxy closes
        } catch (java.net.SocketException reset) {
          // a close with unread bytes is a reset: the connection ended all the same
        }
      }
      int answered = count(all.toString(StandardCharsets.UTF_8));
      assertTrue(answered < sent, answered + " answers");
      assertTrue(upstream.received().size() <= 9, upstream.received().size() + " forwarded");
    }
  }

  private static int count(String responses) {
    Matcher m = Pattern.compile("HTTP/1.1 200").matcher(responses);
    int n = 0;
    while (m.find()) {
      n++;
    }
    return n;
  }
}
