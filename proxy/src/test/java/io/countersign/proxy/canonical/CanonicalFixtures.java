package io.countersign.proxy.canonical;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.countersign.proxy.config.ProxyConfig.RouteConfig;
import io.countersign.proxy.config.RequestRules;
import io.countersign.proxy.route.RouteTable;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * Two routes for canonicalization tests: {@code /crm} with the strict defaults and {@code /loose}
 * with every switch open (overrides stripped, path parameters, %25, opaque bodies, names told
 * apart by case).
 */
final class CanonicalFixtures {
  static final RequestRules LOOSE =
      new RequestRules(RequestRules.Overrides.STRIP, true, true, true, true);
  static final Canonicalizer CANONICALIZER = new Canonicalizer(RouteTable.from(List.of(
      new RouteConfig("crm", "/crm", "http://127.0.0.1:9000", null),
      new RouteConfig("loose", "/loose", "http://127.0.0.1:9001", null, LOOSE)), Map.of()),
      "sales-assistant");

  private CanonicalFixtures() {}

  /** A request with Host set, {@code headers} as name, value pairs. */
  static FullHttpRequest request(String method, String uri, byte[] body, String... headers) {
    FullHttpRequest r = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.valueOf(method),
        uri, Unpooled.copiedBuffer(body));
    r.headers().add("Host", "proxy");
    for (int i = 0; i < headers.length; i += 2) {
      r.headers().add(headers[i], headers[i + 1]);
    }
    return r;
  }

  static FullHttpRequest request(String method, String uri, String body, String... headers) {
    return request(method, uri, body.getBytes(StandardCharsets.UTF_8), headers);
  }

  interface Check {
    void on(CanonicalRequest c) throws Exception;
  }

  /** Canonicalizes, checks, releases both. */
  static void accept(FullHttpRequest r, Check check) throws Exception {
    try {
      CanonicalRequest c = CANONICALIZER.canonicalize(r);
      try {
        check.on(c);
      } finally {
        c.release();
      }
    } finally {
      r.release();
    }
  }

  /** Asserts a refusal with {@code status} and {@code code}; the request keeps no extra reference. */
  static RequestRejectedException refuse(FullHttpRequest r, int status, String code) {
    try {
      RequestRejectedException e =
          assertThrows(RequestRejectedException.class, () -> CANONICALIZER.canonicalize(r));
      assertEquals(code, e.code(), e.getMessage());
      assertEquals(status, e.status(), e.getMessage());
      assertEquals(1, r.refCnt(), "a refused request keeps no reference to its body");
      return e;
    } finally {
      r.release();
    }
  }
}
