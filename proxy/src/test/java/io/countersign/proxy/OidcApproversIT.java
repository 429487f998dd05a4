package io.countersign.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import io.countersign.proxy.config.ProxyConfig;
import io.countersign.proxy.config.ProxyConfig.Engine;
import io.countersign.proxy.support.AdminClient;
import io.countersign.proxy.support.Await;
import io.countersign.proxy.support.LoopbackUpstream;
import io.countersign.proxy.support.ProxyFixture;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Approvers with OIDC JWTs, verified against an identity provider's JWKS served on loopback. */
class OidcApproversIT {
  private static final String ISSUER = "https://idp.example.com/";

  private static String jwt(RSAKey key, String email, List<String> groups, String audience, Instant exp)
      throws Exception {
    JWTClaimsSet claims = new JWTClaimsSet.Builder().issuer(ISSUER).audience(audience).subject(email)
        .claim("email", email).claim("groups", groups).expirationTime(Date.from(exp)).build();
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID()).build(), claims);
    jwt.sign(new RSASSASigner(key));
    return jwt.serialize();
  }

  @Test
  void aValidJwtFromTheIdpApprovesAndForgedExpiredOrMisaddressedOnesAreRefused(@TempDir Path tmp)
      throws Exception {
    RSAKey idpKey = new RSAKeyGenerator(2048).keyID("idp-1").generate();
    RSAKey forger = new RSAKeyGenerator(2048).keyID("idp-1").generate();
    HttpServer idp = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 8);
    byte[] jwks = new JWKSet(idpKey.toPublicJWK()).toString().getBytes(StandardCharsets.UTF_8);
    idp.createContext("/jwks.json", ex -> {
      ex.getResponseHeaders().set("Content-Type", "application/json");
      ex.sendResponseHeaders(200, jwks.length);
      ex.getResponseBody().write(jwks);
      ex.close();
    });
    idp.start();
    try (LoopbackUpstream upstream = new LoopbackUpstream()) {
      ProxyConfig.Approvals approvals = new ProxyConfig.Approvals(null, 100, 100, Duration.ofMinutes(30),
          null, List.of(), List.of(), new ProxyConfig.Oidc(ISSUER, "countersign",
              "http://127.0.0.1:" + idp.getAddress().getPort() + "/jwks.json", "email", "groups"));
      ProxyConfig config = ProxyFixture.withApprovals(ProxyFixture.config(Engine.WASM, null, upstream.url(),
          tmp.resolve("ledger"), ProxyFixture.upstreamSettings(Duration.ofSeconds(5)), ProxyFixture.limits()),
          approvals);
      try (ProxyFixture p = ProxyFixture.start(config)) {
        CompletableFuture<HttpResponse<String>> agent = HttpClient.newHttpClient().sendAsync(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + p.address().getPort() + "/crm/v3/deals/42"))
                .header("Content-Type", "application/json")
                .method("PATCH", HttpRequest.BodyPublishers.ofString("{\"discount_pct\": 30}")).build(),
            HttpResponse.BodyHandlers.ofString());
        Await.until("a pending approval", Duration.ofSeconds(20),
            () -> !p.server().approvals().pending(a -> true).isEmpty());
        String id = p.server().approvals().pending(a -> true).get(0).id();
        AdminClient admin = new AdminClient(p.server().adminAddress());
        Instant later = Instant.now().plusSeconds(600);
        String good = jwt(idpKey, "maria@example.com", List.of("sales-managers"), "countersign", later);
        String digest = admin.digest(id, good);

        record Bad(String note, String token, int status) {}
        for (Bad b : List.of(
            new Bad("signed by another key", jwt(forger, "maria@example.com", List.of("sales-managers"), "countersign", later), 401),
            new Bad("expired", jwt(idpKey, "maria@example.com", List.of("sales-managers"), "countersign", Instant.now().minusSeconds(600)), 401),
            new Bad("for another audience", jwt(idpKey, "maria@example.com", List.of("sales-managers"), "other-app", later), 401),
            new Bad("not in the group", jwt(idpKey, "frank@example.com", List.of("finance"), "countersign", later), 403))) {
          assertEquals(b.status(), admin.vote(id, "approve", b.token(), "try", digest).statusCode(), b.note());
        }
        assertEquals(0, upstream.received().size());
        assertEquals(200, admin.vote(id, "approve", good, "ok via SSO", digest).statusCode());
        assertEquals(200, agent.get(30, TimeUnit.SECONDS).statusCode());
        assertEquals(1, upstream.received().size());
      }
    } finally {
      idp.stop(0);
    }
  }
}
