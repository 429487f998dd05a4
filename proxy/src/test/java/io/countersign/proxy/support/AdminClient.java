package io.countersign.proxy.support;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** Calls the admin port as an approver would. */
public final class AdminClient {
  private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private final InetSocketAddress admin;

  public AdminClient(InetSocketAddress admin) {
    this.admin = admin;
  }

  /** GET with {@code token} (or none when null). */
  public HttpResponse<String> get(String path, String token) {
    return send(HttpRequest.newBuilder(uri(path)).GET(), token);
  }

  /** POST approve/deny with a reason and the digest the approver reviewed. */
  public HttpResponse<String> vote(String approvalId, String verb, String token, String reason, String digest) {
    String body = "{\"reason\": \"" + reason + "\", \"digest\": \"" + digest + "\"}";
    return send(HttpRequest.newBuilder(uri("/v1/approvals/" + approvalId + "/" + verb))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)), token);
  }

  /** The digest of a hold, as an approver reads it before deciding. */
  public String digest(String approvalId, String token) {
    JsonNode d = ProxyFixture.json(get("/v1/approvals/" + approvalId, token).body());
    return d.path("digest").asText();
  }

  private URI uri(String path) {
    return URI.create("http://127.0.0.1:" + admin.getPort() + path);
  }

  private HttpResponse<String> send(HttpRequest.Builder b, String token) {
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    try {
      return client.send(b.timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
