package io.countersign.proxy.support;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * A stand-in business API on 127.0.0.1 (a real HTTP server, the JDK's): records every request it
 * receives and answers with JSON. Paths under {@code /slow} never answer until {@link #close()}.
 */
public final class LoopbackUpstream implements AutoCloseable {
  private final HttpServer server;
  private final ExecutorService pool = Executors.newFixedThreadPool(8);
  private final List<Received> received = new CopyOnWriteArrayList<>();
  private final CountDownLatch release = new CountDownLatch(1);
  private final CountDownLatch releaseHeld = new CountDownLatch(1);

  /**
   * One request as the upstream saw it.
   *
   * @param method method
   * @param target request target (path and query, raw)
   * @param headers headers, lower-case names, values joined by ", "
   * @param body body bytes as text
   */
  public record Received(String method, String target, Map<String, String> headers, String body) {}

  public LoopbackUpstream() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 128);
    server.createContext("/", this::handle);
    server.setExecutor(pool);
    server.start();
  }

  private void handle(HttpExchange ex) throws IOException {
    byte[] body;
    try (InputStream in = ex.getRequestBody()) {
      body = in.readAllBytes();
    }
    Map<String, String> headers = new LinkedHashMap<>();
    ex.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(Locale.ROOT), String.join(", ", v)));
    received.add(new Received(ex.getRequestMethod(), ex.getRequestURI().getRawPath()
        + (ex.getRequestURI().getRawQuery() == null ? "" : "?" + ex.getRequestURI().getRawQuery()),
        headers, new String(body, StandardCharsets.UTF_8)));
    if (ex.getRequestURI().getPath().contains("/slow")) {
      try {
        release.await(60, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      ex.close();
      return;
    }
    if (ex.getRequestURI().getPath().contains("/held")) {
      try {
        releaseHeld.await(60, TimeUnit.SECONDS); // answers normally once the test releases it
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    byte[] out = ("{\"ok\":true,\"method\":\"" + ex.getRequestMethod() + "\",\"id\":\"n-1\"}")
        .getBytes(StandardCharsets.UTF_8);
    if (ex.getRequestURI().getPath().contains("/echo")) {
      // as httpbin's /anything and many error pages do: the request's headers, back in the answer
      String auth = String.valueOf(headers.get("authorization"));
      out = ("{\"headers\":{\"authorization\":\"" + auth + "\"},\"token\":\""
          + auth.substring(auth.indexOf(' ') + 1) + "\"}").getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().set("X-Debug-Auth", auth);
    }
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.getResponseHeaders().set("Set-Cookie", "session=upstream-secret");
    int status = "POST".equals(ex.getRequestMethod()) ? 201 : 200;
    if ("HEAD".equals(ex.getRequestMethod())) {
      ex.sendResponseHeaders(status, -1);
    } else {
      ex.sendResponseHeaders(status, out.length);
      ex.getResponseBody().write(out);
    }
    ex.close();
  }

  /** Lets requests to paths containing /held answer. */
  public void releaseHeld() {
    releaseHeld.countDown();
  }

  /** The upstream's base URL. */
  public String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** Every request received so far, in arrival order. */
  public List<Received> received() {
    return new ArrayList<>(received);
  }

  @Override
  public void close() {
    release.countDown();
    releaseHeld.countDown();
    server.stop(0);
    pool.shutdownNow();
  }
}
