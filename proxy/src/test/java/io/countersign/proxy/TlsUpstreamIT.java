package io.countersign.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.countersign.proxy.config.ProxyConfig;
import io.countersign.proxy.config.ProxyConfig.Engine;
import io.countersign.proxy.support.ProxyFixture;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * https upstreams are verified: a certificate the proxy trusts, for the host it dialed, works; an
 * untrusted certificate, or one for another host name, is a 502 and nothing is sent.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TlsUpstreamIT {
  private Path dir;
  private Path caPem;
  private HttpsServer server;
  private final AtomicInteger served = new AtomicInteger();

  @BeforeAll
  void start(@TempDir Path tmp) throws Exception {
    dir = tmp;
    Path keystore = tmp.resolve("upstream.p12");
    caPem = tmp.resolve("upstream.pem");
    // a self-signed certificate for "localhost" only, made by the JDK's keytool
    keytool("-genkeypair", "-alias", "up", "-keyalg", "EC", "-groupname", "secp256r1", "-validity", "2",
        "-dname", "CN=localhost", "-ext", "SAN=dns:localhost", "-keystore", keystore.toString(),
        "-storetype", "PKCS12", "-storepass", "changeit", "-keypass", "changeit");
    keytool("-exportcert", "-rfc", "-alias", "up", "-keystore", keystore.toString(),
        "-storetype", "PKCS12", "-storepass", "changeit", "-file", caPem.toString());

    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(keystore)) {
      ks.load(in, "changeit".toCharArray());
    }
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, "changeit".toCharArray());
    SSLContext ssl = SSLContext.getInstance("TLS");
    ssl.init(kmf.getKeyManagers(), null, null);
    server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
    server.setHttpsConfigurator(new HttpsConfigurator(ssl));
    server.createContext("/", ex -> {
      served.incrementAndGet();
      byte[] out = "{\"tls\":true}".getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().set("Content-Type", "application/json");
      ex.sendResponseHeaders(200, out.length);
      ex.getResponseBody().write(out);
      ex.close();
    });
    server.start();
  }

  @AfterAll
  void stop() {
    server.stop(0);
  }

  private static void keytool(String... args) throws Exception {
    Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
    List<String> cmd = new java.util.ArrayList<>(List.of(keytool.toString()));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, "keytool failed: " + out);
  }

  private ProxyFixture proxy(String host, Path ca, String name) {
    String url = "https://" + host + ":" + server.getAddress().getPort();
    ProxyConfig.Upstream up = new ProxyConfig.Upstream(Duration.ofSeconds(2), Duration.ofSeconds(5), 1 << 20, 4, ca);
    return ProxyFixture.start(ProxyFixture.config(Engine.WASM, null, url, dir.resolve(name),
        up, ProxyFixture.limits()));
  }

  @Test
  void aTrustedCertificateForTheDialedHostIsAccepted() {
    try (ProxyFixture proxy = proxy("localhost", caPem, "trusted")) {
      HttpResponse<String> r = proxy.send("GET", "/crm/v3/deals/42", null);
      assertEquals(200, r.statusCode(), r.body());
      assertEquals("{\"tls\":true}", r.body());
    }
  }

  @Test
  void anUntrustedCertificateIsRefused() {
    int before = served.get();
    try (ProxyFixture proxy = proxy("localhost", null, "untrusted")) {
      HttpResponse<String> r = proxy.send("GET", "/crm/v3/deals/42", null);
      assertEquals(502, r.statusCode(), r.body());
      assertEquals("upstream_tls_error", ProxyFixture.json(r.body()).path("error").asText(), r.body());
      assertEquals(before, served.get(), "nothing reached the upstream");
    }
  }

  @Test
  void aCertificateForAnotherHostNameIsRefused() {
    int before = served.get();
    try (ProxyFixture proxy = proxy("127.0.0.1", caPem, "wrong-name")) {
      HttpResponse<String> r = proxy.send("GET", "/crm/v3/deals/42", null);
      assertEquals(502, r.statusCode(), r.body());
      assertEquals("upstream_tls_error", ProxyFixture.json(r.body()).path("error").asText(), r.body());
      assertEquals(before, served.get(), "nothing reached the upstream");
    }
  }
}
