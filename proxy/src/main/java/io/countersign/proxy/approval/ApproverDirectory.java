package io.countersign.proxy.approval;

import io.countersign.proxy.config.CheckedYaml;
import io.countersign.proxy.config.ConfigException;
import io.countersign.proxy.config.ConfigSchema;
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
    CheckedYaml.Read<ApproversFile> read = CheckedYaml.read(file, "approvers file",
        ConfigSchema.APPROVERS, ApproversFile.class, "write approvers: [{name, groups, token_sha256}]");
    List<Entry> entries = new ArrayList<>();
    Set<String> names = new HashSet<>();
    List<ApproversFile.Approver> list = read.value().approvers();
    for (int i = 0; i < list.size(); i++) {
      ApproversFile.Approver a = list.get(i);
      if (!names.add(IdentityNames.key(a.name()))) {
        throw new ConfigException(read.where().of(List.of("approvers", i, "name")) + "approvers[" + i
            + "].name repeats '" + a.name() + "' (names are compared as people read them: Unicode NFKC,"
            + " invisible characters removed, case folded); give each approver one name");
      }
      entries.add(new Entry(new Approver(a.name(), Set.copyOf(a.groups())),
          HexFormat.of().parseHex(a.tokenSha256())));
    }
    return new ApproverDirectory(entries, null);
  }

  /**
   * The approvers file as written (checked by its schema first).
   *
   * @param approvers the approvers
   */
  record ApproversFile(List<Approver> approvers) {
    /**
     * One approver.
     *
     * @param name the identity
     * @param groups the groups
     * @param tokenSha256 hex SHA-256 of the token
     */
    record Approver(String name, List<String> groups, String tokenSha256) {}
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
