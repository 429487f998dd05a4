package io.countersign.proxy.approval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.countersign.proxy.config.ConfigException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The approvers and their bearer tokens, from a YAML file (a mounted Kubernetes secret):
 *
 * <pre>
 * approvers:
 *   - name: maria@example.com
 *     groups: [sales-managers]
 *     token_sha256: 5e88...   # hex SHA-256 of the token; the token itself is never stored
 * </pre>
 *
 * Tokens are compared as SHA-256 digests in constant time, against every entry, so neither a
 * match's position nor a near miss shows in the timing. Immutable and thread-safe.
 */
public final class ApproverDirectory {
  private record Entry(Approver approver, byte[] tokenSha256) {}

  private final List<Entry> entries;
  private final OidcApprovers oidc;

  private ApproverDirectory(List<Entry> entries, OidcApprovers oidc) {
    this.entries = List.copyOf(entries);
    this.oidc = oidc;
  }

  /** This directory, also accepting OIDC JWTs verified by {@code oidc}. */
  public ApproverDirectory withOidc(OidcApprovers oidc) {
    return new ApproverDirectory(entries, oidc);
  }

  /** No approvers: every approval call is refused. */
  public static ApproverDirectory empty() {
    return new ApproverDirectory(List.of(), null);
  }

  /**
   * Loads the file.
   *
   * @throws ConfigException naming the file, the entry and the fix
   */
  public static ApproverDirectory load(Path file) {
    JsonNode root;
    try {
      root = new ObjectMapper(new YAMLFactory()).readTree(file.toFile());
    } catch (IOException e) {
      throw new ConfigException(file + ": cannot read the approvers file: " + e.getMessage(), e);
    }
    JsonNode list = root == null ? null : root.get("approvers");
    if (list == null || !list.isArray()) {
      throw new ConfigException(file + ": approvers is missing; write a list of {name, groups, token_sha256}");
    }
    List<Entry> entries = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (int i = 0; i < list.size(); i++) {
      JsonNode a = list.get(i);
      String at = file + ": approvers[" + i + "]";
      String name = a.path("name").asText("");
      String hash = a.path("token_sha256").asText("");
      if (name.isBlank() || !names.add(name)) {
        throw new ConfigException(at + ".name is missing or repeated; give each approver one name");
      }
      if (!hash.matches("[0-9a-fA-F]{64}")) {
        throw new ConfigException(at + ".token_sha256 is not 64 hex digits; store sha256(token)");
      }
      Set<String> groups = new HashSet<>();
      a.path("groups").forEach(g -> groups.add(g.asText()));
      if (groups.isEmpty()) {
        throw new ConfigException(at + ".groups is empty; name the groups this approver serves");
      }
      entries.add(new Entry(new Approver(name, Set.copyOf(groups)), HexFormat.of().parseHex(hash)));
    }
    return new ApproverDirectory(entries, null);
  }

  /**
   * The approver whose token is in {@code authorization} ("Bearer TOKEN"), if any: a static token
   * from the file, or (when configured) an OIDC JWT. May fetch the IdP's keys: not for event loops.
   */
  public Optional<Approver> authenticate(String authorization) {
    if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return Optional.empty();
    }
    String token = authorization.substring(7).strip();
    Optional<Approver> fromFile = fromFile(token);
    if (fromFile.isPresent() || oidc == null || token.chars().filter(c -> c == '.').count() != 2) {
      return fromFile;
    }
    return oidc.authenticate(token);
  }

  private Optional<Approver> fromFile(String token) {
    byte[] presented = sha256(token);
    Approver found = null;
    for (Entry e : entries) {
      if (MessageDigest.isEqual(e.tokenSha256(), presented) && found == null) {
        found = e.approver();
      }
    }
    return Optional.ofNullable(found);
  }

  /** Hex SHA-256 of a token: what the approvers file stores. */
  public static String tokenHash(String token) {
    return HexFormat.of().formatHex(sha256(token));
  }

  private static byte[] sha256(String token) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
