package io.countersign.proxy.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.countersign.proxy.config.ConfigException;
import io.countersign.proxy.config.ProxyConfig.Credential;
import io.countersign.proxy.config.ProxyConfig.RouteConfig;
import io.countersign.proxy.route.Route.InjectedCredential;
import io.countersign.proxy.route.Route.UpstreamTarget;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Which route a canonical path takes, the path sent upstream, and the credentials resolved. */
class RouteTableTest {
  private static final RouteTable TABLE =
      RouteTable.from(
          List.of(
              new RouteConfig("api", "/api", "http://api.internal", null),
              new RouteConfig("crm", "/crm", "https://crm.example/base/", null),
              new RouteConfig("api-v2", "/api/v2", "http://v2.internal:8080/v2", null),
              new RouteConfig("deep", "/a/b/c", "http://deep.internal/x/y", null)),
          Map.of());

  @TempDir Path dir;

  /**
   * @param note what the case is about
   * @param path the canonical path
   * @param route the expected route name, or null for no match
   * @param upstreamPath the expected upstream path
   */
  record Case(String note, String path, String route, String upstreamPath) {
    @Override
    public String toString() {
      return note;
    }
  }

  static Stream<Case> cases() {
    return Stream.of(
        new Case("the prefix itself goes to the base path", "/crm", "crm", "/base"),
        new Case("the prefix with a trailing slash keeps it", "/crm/", "crm", "/base/"),
        new Case("the rest is joined to the base path", "/crm/v3/deals", "crm", "/base/v3/deals"),
        new Case("a trailing slash after the rest is kept", "/crm/deals/", "crm", "/base/deals/"),
        new Case("the prefix ends at a segment boundary", "/crmx", null, null),
        new Case("a longer segment is not the prefix", "/crm-admin/x", null, null),
        new Case("a shorter path is not the prefix", "/cr", null, null),
        new Case("the root matches no route", "/", null, null),
        new Case("prefixes are case-sensitive", "/CRM/deals", null, null),
        new Case("no base path and the bare prefix go to the root", "/api", "api", "/"),
        new Case("no base path and a trailing slash go to the root", "/api/", "api", "/"),
        new Case("no base path keeps the rest as is", "/api/users/7", "api", "/users/7"),
        new Case("the longest prefix wins", "/api/v2/users", "api-v2", "/v2/users"),
        new Case("the longest prefix itself", "/api/v2", "api-v2", "/v2"),
        new Case("a longer prefix only at its own boundary", "/api/v20/users", "api", "/v20/users"),
        new Case("a multi-segment prefix", "/a/b/c/d", "deep", "/x/y/d"),
        new Case("a multi-segment prefix partly matched", "/a/b/cd", null, null),
        new Case("escapes in the rest pass through", "/crm/caf%C3%A9%20x", "crm",
            "/base/caf%C3%A9%20x"));
  }

  @ParameterizedTest
  @MethodSource("cases")
  void aPathTakesTheLongestPrefixEndingAtASegmentBoundary(Case c) {
    RouteTable.Match m = TABLE.match(c.path());
    if (c.route() == null) {
      assertNull(m);
      return;
    }
    assertEquals(c.route(), m.route().name());
    assertEquals(c.upstreamPath(), m.upstreamPath());
  }

  @Test
  void routesAreListedLongestPrefixFirstWhateverTheConfigOrder() {
    List<String> prefixes = TABLE.routes().stream().map(Route::prefix).toList();
    assertEquals(List.of("/api/v2", "/a/b/c"), prefixes.subList(0, 2));
    assertEquals(List.of("/api", "/crm"), prefixes.subList(2, 4).stream().sorted().toList());
  }

  @Test
  void upstreamsAreParsedWithDefaultPortsAndTrimmedBasePaths() {
    assertEquals(
        new UpstreamTarget(true, "crm.example", 443, "/base"),
        UpstreamTarget.parse("https://crm.example/base/"));
    assertEquals(
        new UpstreamTarget(false, "api.internal", 80, ""), UpstreamTarget.parse("http://api.internal"));
    assertEquals(new UpstreamTarget(false, "h", 80, ""), UpstreamTarget.parse("http://h///"));
    assertEquals(
        new UpstreamTarget(false, "v2.internal", 8080, "/v2"),
        UpstreamTarget.parse("http://v2.internal:8080/v2"));
  }

  @Test
  void theAuthorityOmitsOnlyTheSchemesDefaultPort() {
    assertEquals("crm.example", UpstreamTarget.parse("https://crm.example:443").authority());
    assertEquals("crm.example:80", UpstreamTarget.parse("https://crm.example:80").authority());
    assertEquals("h", UpstreamTarget.parse("http://h:80/x").authority());
    assertEquals("http://h:9000", UpstreamTarget.parse("http://h:9000/b").origin());
  }

  // ---- credentials ----

  private static RouteTable withCredential(Credential c, Map<String, String> env) {
    return RouteTable.from(List.of(new RouteConfig("crm", "/crm", "http://h", c)), env);
  }

  private static InjectedCredential credentialOf(RouteTable t) {
    return t.match("/crm").route().credential();
  }

  @Test
  void aCredentialFromTheEnvironmentGetsItsPrefixAndALowerCaseHeader() {
    RouteTable t =
        withCredential(
            new Credential("Authorization", "Bearer ", "CRM_TOKEN", null),
            Map.of("CRM_TOKEN", "t0k3n"));
    assertEquals(new InjectedCredential("authorization", "Bearer t0k3n"), credentialOf(t));
  }

  @Test
  void aCredentialFromAFileLosesTheSurroundingWhiteSpaceOfAMountedSecret() throws IOException {
    Path secret = dir.resolve("crm-key");
    Files.writeString(secret, "  k3y-value\n");
    RouteTable t = withCredential(new Credential("X-Api-Key", "", null, secret), Map.of());
    assertEquals(new InjectedCredential("x-api-key", "k3y-value"), credentialOf(t));
  }

  @Test
  void aRouteWithoutACredentialInjectsNone() {
    assertNull(TABLE.match("/crm").route().credential());
  }

  @Test
  void theSecretNeverAppearsInTheCredentialsText() {
    InjectedCredential c = new InjectedCredential("authorization", "Bearer t0k3n");
    assertFalse(c.toString().contains("t0k3n"), c.toString());
    assertTrue(c.toString().contains("authorization"), c.toString());
  }

  /**
   * @param note what the case is about
   * @param credential the configured credential
   * @param env the environment
   * @param says words the message must hold besides the route name
   */
  record BadCredential(String note, Credential credential, Map<String, String> env, String says) {
    @Override
    public String toString() {
      return note;
    }
  }

  static Stream<BadCredential> badCredentials() {
    Path missing = Path.of(System.getProperty("java.io.tmpdir"), "countersign-no-such-secret");
    return Stream.of(
        new BadCredential("an unset variable", new Credential("Authorization", "", "CRM_TOKEN", null),
            Map.of("OTHER", "x"), "CRM_TOKEN"),
        new BadCredential("an empty variable", new Credential("Authorization", "", "CRM_TOKEN", null),
            Map.of("CRM_TOKEN", ""), "CRM_TOKEN"),
        new BadCredential("a control character in a variable",
            new Credential("Authorization", "", "CRM_TOKEN", null), Map.of("CRM_TOKEN", "a\u0007b"),
            "control characters"),
        new BadCredential("a DEL in a variable",
            new Credential("Authorization", "", "CRM_TOKEN", null), Map.of("CRM_TOKEN", "ab\u007f"),
            "control characters"),
        new BadCredential("a missing file", new Credential("Authorization", "", null, missing),
            Map.of(), missing.toString()));
  }

  @ParameterizedTest
  @MethodSource("badCredentials")
  void anUnusableCredentialStopsTheStartNamingTheRoute(BadCredential c) {
    ConfigException e =
        assertThrows(ConfigException.class, () -> withCredential(c.credential(), c.env()));
    assertTrue(e.getMessage().contains("route 'crm'"), e.getMessage());
    assertTrue(e.getMessage().contains(c.says()), e.getMessage());
  }

  @Test
  void aSecretFileWithTwoLinesIsRefused() throws IOException {
    Path secret = dir.resolve("two-lines");
    Files.writeString(secret, "first\nsecond\n");
    ConfigException e =
        assertThrows(
            ConfigException.class,
            () -> withCredential(new Credential("Authorization", "", null, secret), Map.of()));
    assertTrue(e.getMessage().contains("route 'crm'"), e.getMessage());
    assertTrue(e.getMessage().contains("one line"), e.getMessage());
  }

  @Test
  void aSecretFileThatIsNotUtf8IsRefused() throws IOException {
    Path secret = dir.resolve("latin1");
    Files.write(secret, "caf\u00e9".getBytes(StandardCharsets.ISO_8859_1));
    ConfigException e =
        assertThrows(
            ConfigException.class,
            () -> withCredential(new Credential("Authorization", "", null, secret), Map.of()));
    assertTrue(e.getMessage().contains("route 'crm'"), e.getMessage());
  }

  @Test
  void aFolderIsNotASecretFile() {
    ConfigException e =
        assertThrows(
            ConfigException.class,
            () -> withCredential(new Credential("Authorization", "", null, dir), Map.of()));
    assertTrue(e.getMessage().contains("route 'crm'"), e.getMessage());
    assertTrue(e.getMessage().contains(dir.toString()), e.getMessage());
  }

  @Test
  void anIpv6UpstreamHasABracketedAuthority() {
    assertEquals("[::1]:8443", Route.UpstreamTarget.parse("https://[::1]:8443").authority());
    assertEquals("::1", Route.UpstreamTarget.parse("https://[::1]:8443").host());
  }

  @Test
  void anEmptySecretFileStopsTheStart() throws IOException {
    Path secret = dir.resolve("empty");
    Files.writeString(secret, "\n");
    ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class,
        () -> withCredential(new Credential("Authorization", "Bearer ", null, secret), Map.of()));
    org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("route 'crm'"), e.getMessage());
  }

  @Test
  void aValuePrefixWithControlCharactersStopsTheStart() {
    org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class, () -> withCredential(
        new Credential("Authorization", "Bearer\r\nX-Evil: 1\r\n", "T", null), Map.of("T", "t")));
  }
}
