package io.countersign.proxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.countersign.proxy.config.ProxyConfig.Credential;
import io.countersign.proxy.config.ProxyConfig.Engine;
import io.countersign.proxy.config.ProxyConfig.Limits;
import io.countersign.proxy.config.ProxyConfig.RouteConfig;
import io.countersign.proxy.config.ProxyConfig.Upstream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The config file is checked once: defaults fill what is left out, and every mistake stops the
 * start with a message naming the file, the key and the fix. Each test writes its files into a
 * fresh folder holding a fake executable {@code .tools/bin/opa} and a {@code rego/} folder.
 */
class ConfigLoaderTest {
  private static final String ROUTE =
      """
      routes:
        - name: crm
          prefix: /crm
          upstream: http://127.0.0.1:9000
      """;

  @TempDir Path dir;

  @BeforeEach
  void toolsAndPolicyFolder() throws IOException {
    Path opa = dir.resolve(".tools/bin/opa");
    Files.createDirectories(opa.getParent());
    Files.writeString(opa, "#!/bin/sh\nexit 0\n");
    Files.setPosixFilePermissions(opa, PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.createDirectories(dir.resolve("rego"));
  }

  private Path write(String name, String yaml) throws IOException {
    Path file = dir.resolve(name);
    Files.createDirectories(file.getParent());
    Files.writeString(file, yaml);
    return file;
  }

  private ConfigException refused(String yaml) throws IOException {
    Path file = write("countersign.yaml", yaml);
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(file));
    assertTrue(
        e.getMessage().startsWith(file + ": "), "the message names the file: " + e.getMessage());
    return e;
  }

  // ---- what loads ----

  @Test
  void aMinimalConfigGetsEveryDefault() throws IOException {
    ProxyConfig c = ConfigLoader.load(write("countersign.yaml", "agent_id: sales-assistant\n" + ROUTE));

    assertEquals("sales-assistant", c.agentId());
    assertEquals(new InetSocketAddress("127.0.0.1", 8080), c.agentListen());
    assertEquals(
        new Limits(8192, 16384, 1 << 20, Duration.ofSeconds(30), Duration.ofSeconds(60), 8,
            Duration.ofSeconds(20)),
        c.limits());
    assertEquals(Engine.OPA, c.policy().engine());
    assertNull(c.policy().opaUrl());
    assertEquals(dir.resolve(".tools/bin/opa"), c.policy().opaBinary());
    assertEquals(dir.resolve("rego"), c.policy().regoDir());
    assertEquals(Duration.ofMillis(500), c.policy().timeout());
    assertEquals(dir.resolve("ledger"), c.ledgerDir());
    assertEquals(
        new Upstream(Duration.ofSeconds(2), Duration.ofSeconds(30), 8 << 20, 64, null),
        c.upstream());
    assertEquals(List.of(new RouteConfig("crm", "/crm", "http://127.0.0.1:9000", null)), c.routes());
  }

  @Test
  void theShippedExampleLoadsWhenItsToolsAndPolicyAreInPlace() throws IOException {
    String example = Files.readString(Path.of("..", "examples", "countersign.yaml"));
    write("examples/approvers.yaml", Files.readString(Path.of("..", "examples", "approvers.yaml")));
    ProxyConfig c = ConfigLoader.load(write("examples/countersign.yaml", example));

    assertEquals("sales-assistant", c.agentId());
    assertEquals(dir.resolve("rego"), c.policy().regoDir());
    assertEquals(dir.resolve("run/ledger"), c.ledgerDir());
    assertEquals(Duration.ofMillis(500), c.policy().timeout());
    assertEquals(List.of("crm", "billing"), c.routes().stream().map(RouteConfig::name).toList());
    assertEquals(
        new Credential("Authorization", "Bearer ", "CRM_TOKEN", null), c.routes().get(0).credential());
  }

  @Test
  void relativePathsResolveAgainstTheConfigFilesFolderNotTheWorkingDirectory() throws IOException {
    Files.createDirectories(dir.resolve("policies"));
    Files.writeString(dir.resolve("ca.pem"), "pem");
    String yaml =
        """
        agent_id: a
        policy:
          opa_binary: ../.tools/bin/opa
          rego_dir: ../policies
        ledger:
          dir: ./data/../journal
        upstream:
          ca_file: ../ca.pem
        routes:
          - name: crm
            prefix: /crm
            upstream: https://crm.example/base
            credential:
              from_file: secrets/crm-token
        """;
    ProxyConfig c = ConfigLoader.load(write("conf/countersign.yaml", yaml));

    assertEquals(dir.resolve(".tools/bin/opa"), c.policy().opaBinary());
    assertEquals(dir.resolve("policies"), c.policy().regoDir());
    assertEquals(dir.resolve("conf/journal"), c.ledgerDir());
    assertEquals(dir.resolve("ca.pem"), c.upstream().caFile());
    assertEquals(
        new Credential("Authorization", "", null, dir.resolve("conf/secrets/crm-token")),
        c.routes().get(0).credential());
  }

  @Test
  void everySettingIsRead() throws IOException {
    String yaml =
        """
        agent_id: a
        listen:
          agent: 0.0.0.0:9090
        limits:
          max_initial_line_bytes: 256
          max_header_bytes: 1048576
          max_body_bytes: 0
          request_timeout: PT1M
          idle_timeout: PT0.25S
          max_pipelined: 128
        policy:
          engine: WaSm
          timeout: PT2S
        upstream:
          connect_timeout: PT1S
          response_timeout: PT5S
          max_response_bytes: 268435456
          max_connections_per_event_loop: 4096
        routes:
          - name: crm_v2-1
            prefix: /api/v2.1/c~rm
            upstream: https://[::1]:8443/base/
            credential:
              header: X-Api-Key
              value_prefix: "Token "
              from_env: CRM_KEY
        """;
    ProxyConfig c = ConfigLoader.load(write("countersign.yaml", yaml));

    assertEquals(new InetSocketAddress("0.0.0.0", 9090), c.agentListen());
    assertEquals(
        new Limits(256, 1 << 20, 0, Duration.ofMinutes(1), Duration.ofMillis(250), 128,
            Duration.ofSeconds(20)), c.limits());
    assertEquals(Engine.WASM, c.policy().engine());
    assertEquals(Duration.ofSeconds(2), c.policy().timeout());
    assertEquals(
        new Upstream(Duration.ofSeconds(1), Duration.ofSeconds(5), 256 << 20, 4096, null),
        c.upstream());
    assertEquals(
        new RouteConfig(
            "crm_v2-1",
            "/api/v2.1/c~rm",
            "https://[::1]:8443/base/",
            new Credential("X-Api-Key", "Token ", "CRM_KEY", null)),
        c.routes().get(0));
  }

  @Test
  void anExternalOpaNeedsNoOpaBinary() throws IOException {
    String yaml =
        "agent_id: a\npolicy:\n  opa_url: https://opa.internal:8181\n  opa_binary: nowhere/opa\n"
            + ROUTE;
    ProxyConfig c = ConfigLoader.load(write("countersign.yaml", yaml));
    assertEquals("https://opa.internal:8181", c.policy().opaUrl());
  }

  // ---- what is refused ----

  /**
   * @param note what the case is about
   * @param yaml the whole config file
   * @param key the key the message must name
   * @param fix words of the fix the message must give
   */
  record Refused(String note, String yaml, String key, String fix) {
    @Override
    public String toString() {
      return note;
    }
  }

  private static Refused top(String note, String section, String key, String fix) {
    return new Refused(note, "agent_id: a\n" + section + "\n" + ROUTE, key, fix);
  }

  private static Refused route(String note, String routeBody, String key, String fix) {
    return new Refused(note, "agent_id: a\nroutes:\n" + routeBody, key, fix);
  }

  static Stream<Refused> refusals() {
    return Stream.of(
        new Refused("a file that is not a mapping", "- a\n- b\n", "(top level)", "examples/"),
        new Refused("an empty file", "", "(top level)", "examples/"),
        new Refused("a missing agent id", ROUTE, "agent_id is missing", "set it"),
        new Refused("a blank agent id", "agent_id: ' '\n" + ROUTE, "agent_id is missing", "set it"),
        new Refused("an agent id that is not a string", "agent_id: [a]\n" + ROUTE,
            "agent_id is not a string", "quote"),
        top("an unknown top-level key", "agent_idd: b", "agent_idd is not a known key", "remove it"),
        top("an unknown key in limits", "limits:\n  max_body: 5", "limits.max_body is not a known key",
            "max_body_bytes"),
        top("an unknown key in policy", "policy:\n  engin: opa", "policy.engin", "engine"),
        top("an unknown key in listen", "listen:\n  metrics: 1.2.3.4:1", "listen.metrics", "agent"),
        top("an unknown key in ledger", "ledger:\n  path: x", "ledger.path", "dir"),
        top("an unknown key in upstream", "upstream:\n  tls: true", "upstream.tls", "ca_file"),
        top("a section that is not a mapping", "limits: 5", "limits is not a mapping", "YAML mapping"),
        top("a duration without ISO-8601 form", "limits:\n  request_timeout: 30s",
            "limits.request_timeout", "ISO-8601"),
        top("a duration that is a number", "limits:\n  idle_timeout: 30",
            "limits.idle_timeout is not a string", "quote"),
        top("a zero duration", "policy:\n  timeout: PT0S", "policy.timeout is PT0S", "positive"),
        top("a negative duration", "upstream:\n  connect_timeout: -PT1S",
            "upstream.connect_timeout", "positive"),
        top("an int below its range", "limits:\n  max_pipelined: 0", "limits.max_pipelined is 0",
            "from 1 to 128"),
        top("an int above its range", "limits:\n  max_initial_line_bytes: 65537",
            "limits.max_initial_line_bytes is 65537", "from 256 to 65536"),
        top("an int beyond any int", "upstream:\n  max_response_bytes: 99999999999",
            "upstream.max_response_bytes is 99999999999", "from 0 to 268435456"),
        top("a fractional int", "limits:\n  max_body_bytes: 1.5",
            "limits.max_body_bytes is not a whole number", "from 0"),
        top("an int written as a string", "limits:\n  max_header_bytes: '2048'",
            "limits.max_header_bytes is not a whole number", "from 1024"),
        top("a listen address without a port", "listen:\n  agent: localhost", "listen.agent",
            "host:port"),
        top("a listen port out of range", "listen:\n  agent: 127.0.0.1:65536", "listen.agent",
            "0 to 65535"),
        top("a listen port that is not a number", "listen:\n  agent: 127.0.0.1:http",
            "listen.agent", "0 to 65535"),
        top("an unknown engine", "policy:\n  engine: graal", "policy.engine is 'graal'",
            "use opa or wasm"),
        top("an OPA URL that is not http", "policy:\n  opa_url: unix:///run/opa.sock",
            "policy.opa_url", "http(s)"),
        top("an OPA URL that is not a URL", "policy:\n  opa_url: 'http://a b'", "policy.opa_url",
            "fix the URL"),
        top("a missing rego folder", "policy:\n  rego_dir: policies", "policy.rego_dir", "folder"),
        top("a rego folder that is a file", "policy:\n  rego_dir: .tools/bin/opa",
            "policy.rego_dir", "folder"),
        top("a missing OPA binary when OPA is managed", "policy:\n  opa_binary: bin/opa",
            "policy.opa_binary", "install-tools.sh"),
        top("a missing OPA binary for wasm even with an OPA URL",
            "policy:\n  engine: wasm\n  opa_url: http://127.0.0.1:8181\n  opa_binary: bin/opa",
            "policy.opa_binary", "install-tools.sh"),
        top("a CA file that does not exist", "upstream:\n  ca_file: certs/ca.pem", "upstream.ca_file",
            "mount"),
        new Refused("no routes", "agent_id: a\n", "routes is missing", "add at least one route"),
        new Refused("an empty route list", "agent_id: a\nroutes: []\n", "routes is missing",
            "add at least one route"),
        new Refused("routes as a mapping", "agent_id: a\nroutes:\n  crm: /crm\n", "routes",
            "add at least one route"),
        route("a route that is not a mapping", "  - /crm\n", "routes[0] is not a mapping",
            "{name, prefix, upstream}"),
        route("an unknown route key",
            "  - name: crm\n    prefix: /crm\n    upstream: http://h\n    timeout: PT1S\n",
            "routes[0].timeout is not a known key", "remove it"),
        route("a route without a name", "  - prefix: /crm\n    upstream: http://h\n",
            "routes[0].name is missing", "set it"),
        route("a route name with capitals", "  - name: CRM\n    prefix: /crm\n    upstream: http://h\n",
            "routes[0].name", "lower-case"),
        route("a repeated route name",
            "  - name: crm\n    prefix: /crm\n    upstream: http://h\n"
                + "  - name: crm\n    prefix: /crm2\n    upstream: http://h\n",
            "routes[1].name repeats 'crm'", "its own name"),
        route("a repeated prefix",
            "  - name: crm\n    prefix: /crm\n    upstream: http://h\n"
                + "  - name: crm2\n    prefix: /crm\n    upstream: http://h\n",
            "routes[1].prefix repeats '/crm'", "its own prefix"),
        route("a prefix without a leading slash", "  - name: crm\n    prefix: crm\n    upstream: http://h\n",
            "routes[0].prefix", "plain path segments"),
        route("a prefix with a trailing slash", "  - name: crm\n    prefix: /crm/\n    upstream: http://h\n",
            "routes[0].prefix", "plain path segments"),
        route("the root as a prefix", "  - name: crm\n    prefix: /\n    upstream: http://h\n",
            "routes[0].prefix", "plain path segments"),
        route("a prefix with a dot-segment",
            "  - name: crm\n    prefix: /a/../crm\n    upstream: http://h\n", "routes[0].prefix",
            "plain path segments"),
        route("a prefix with an escape", "  - name: crm\n    prefix: /c%72m\n    upstream: http://h\n",
            "routes[0].prefix", "plain path segments"),
        route("a route without an upstream", "  - name: crm\n    prefix: /crm\n",
            "routes[0].upstream is missing", "set it"),
        route("a non-http upstream", "  - name: crm\n    prefix: /crm\n    upstream: ftp://h/x\n",
            "routes[0].upstream is 'ftp://h/x'", "http(s)://host"),
        route("an upstream without a host", "  - name: crm\n    prefix: /crm\n    upstream: http:/x\n",
            "routes[0].upstream", "http(s)://host"),
        route("an upstream with a query",
            "  - name: crm\n    prefix: /crm\n    upstream: http://h/x?key=1\n",
            "routes[0].upstream", "no query"),
        route("an upstream with an empty query",
            "  - name: crm\n    prefix: /crm\n    upstream: http://h/x?\n",
            "routes[0].upstream", "no query"),
        route("an upstream with a fragment",
            "  - name: crm\n    prefix: /crm\n    upstream: http://h/x#y\n",
            "routes[0].upstream", "fragment"),
        route("an upstream with user info",
            "  - name: crm\n    prefix: /crm\n    upstream: http://u:p@h/\n",
            "routes[0].upstream", "user info"),
        route("an upstream that is not a URL",
            "  - name: crm\n    prefix: /crm\n    upstream: 'http://h/a b'\n",
            "routes[0].upstream", "fix the URL"),
        route("a credential with both sources",
            "  - name: crm\n    prefix: /crm\n    upstream: http://h\n    credential:\n"
                + "      from_env: T\n      from_file: t.txt\n",
            "routes[0].credential.from_env/from_file", "exactly one"),
        route("a credential with neither source",
            "  - name: crm\n    prefix: /crm\n    upstream: http://h\n    credential:\n"
                + "      header: X-Key\n",
            "routes[0].credential.from_env/from_file", "exactly one"),
        route("a credential with an unknown key",
            "  - name: crm\n    prefix: /crm\n    upstream: http://h\n    credential:\n"
                + "      from_env: T\n      value: s3cret\n",
            "routes[0].credential.value is not a known key", "from_env"),
        route("a credential header that is not a plain name",
            "  - name: crm\n    prefix: /crm\n    upstream: http://h\n    credential:\n"
                + "      header: 'X-Key: x'\n      from_env: T\n",
            "routes[0].credential.header", "plain header name"),
        route("an unknown canonicalization switch",
            "  - name: crm\n    prefix: /crm\n    upstream: http://h\n    canonicalization:\n"
                + "      allow_everything: true\n",
            "routes[0].canonicalization.allow_everything is not a known key", "opaque_bodies"),
        route("an override handling other than refuse or strip",
            "  - name: crm\n    prefix: /crm\n    upstream: http://h\n    canonicalization:\n"
                + "      overrides: allow\n",
            "routes[0].canonicalization.overrides is 'allow'", "refuse or strip"),
        route("a canonicalization switch that is not a boolean",
            "  - name: crm\n    prefix: /crm\n    upstream: http://h\n    canonicalization:\n"
                + "      opaque_bodies: 'yes'\n",
            "routes[0].canonicalization.opaque_bodies is not true or false", "true or false"),
        route("an unknown route kind",
            "  - name: tools\n    prefix: /mcp\n    upstream: http://h\n    kind: grpc\n",
            "routes[0].kind is 'grpc'", "http or mcp"));
  }

  @Test
  void aRoutesKindIsReadAndDefaultsToHttp() throws IOException {
    ProxyConfig c = ConfigLoader.load(write("countersign.yaml", "agent_id: a\nroutes:\n"
        + "  - name: crm\n    prefix: /crm\n    upstream: http://h\n"
        + "  - name: tools\n    prefix: /mcp\n    upstream: http://h\n    kind: mcp\n"));
    assertEquals(io.countersign.proxy.config.RouteKind.HTTP, c.routes().get(0).kind());
    assertEquals(io.countersign.proxy.config.RouteKind.MCP, c.routes().get(1).kind());
  }

  @Test
  void aRoutesCanonicalizationSwitchesAreReadAndDefaultToStrict() throws IOException {
    ProxyConfig c = ConfigLoader.load(write("countersign.yaml", "agent_id: a\nroutes:\n"
        + "  - name: crm\n    prefix: /crm\n    upstream: http://h\n"
        + "  - name: files\n    prefix: /files\n    upstream: http://h\n    canonicalization:\n"
        + "      overrides: strip\n      path_parameters: true\n      encoded_percent: true\n"
        + "      opaque_bodies: true\n      case_sensitive_names: true\n"));
    assertEquals(io.countersign.proxy.config.RequestRules.STRICT, c.routes().get(0).rules());
    assertEquals(new io.countersign.proxy.config.RequestRules(
        io.countersign.proxy.config.RequestRules.Overrides.STRIP, true, true, true, true),
        c.routes().get(1).rules());
  }

  @ParameterizedTest
  @MethodSource("refusals")
  void eachMistakeIsRefusedNamingTheFileTheKeyAndTheFix(Refused c) throws IOException {
    ConfigException e = refused(c.yaml());
    assertTrue(e.getMessage().contains(c.key()), "names the key: " + e.getMessage());
    assertTrue(e.getMessage().contains(c.fix()), "gives the fix: " + e.getMessage());
  }

  @Test
  void anOpaBinaryThatIsNotExecutableIsRefused() throws IOException {
    Path opa = dir.resolve("bin/opa");
    Files.createDirectories(opa.getParent());
    Files.writeString(opa, "not a program");
    Files.setPosixFilePermissions(opa, PosixFilePermissions.fromString("rw-r--r--"));
    ConfigException e = refused("agent_id: a\npolicy:\n  opa_binary: bin/opa\n" + ROUTE);
    assertTrue(e.getMessage().contains("policy.opa_binary is " + opa), e.getMessage());
  }

  @Test
  void aMissingFileIsRefusedNamingTheFile() {
    Path file = dir.resolve("nope.yaml");
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(file));
    assertTrue(e.getMessage().startsWith(file + ": cannot read"), e.getMessage());
  }

  @Test
  void invalidYamlIsRefusedNamingTheFile() throws IOException {
    Path file = write("countersign.yaml", "agent_id: [unclosed\n");
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(file));
    assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
  }

  @Test
  void aRepeatedKeyIsRefused() throws IOException {
    ConfigException e = refused("agent_id: a\nagent_id: b\n" + ROUTE);
    org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("agent_id"), e.getMessage());
  }

  @Test
  void anUpstreamPortOutOfRangeIsRefused() throws IOException {
    ConfigException e = refused(
        "agent_id: a\nroutes:\n  - name: crm\n    prefix: /crm\n    upstream: http://h:99999\n");
    org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("routes[0].upstream"), e.getMessage());
  }

  @Test
  void anUpstreamBasePathWithDotSegmentsIsRefused() throws IOException {
    ConfigException e = refused(
        "agent_id: a\nroutes:\n  - name: crm\n    prefix: /crm\n    upstream: http://h/a/../admin\n");
    org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("routes[0].upstream"), e.getMessage());
  }

  @Test
  void ledgerOptionsAreReadAndCheckedOnce() throws IOException {
    write("ledger.key", "k3y");
    ProxyConfig c = ConfigLoader.load(write("countersign.yaml", "agent_id: a\n"
        + "ledger:\n  dir: j\n  roll: hourly\n  hmac_key_file: ledger.key\n"
        + "  redact_headers: [Authorization, X-Secret]\n  retain_cycles: 48\n  min_free_bytes: 4096\n"
        + ROUTE));
    assertEquals(io.countersign.ledger.RollPeriod.HOURLY, c.ledger().rollPeriod());
    assertEquals(dir.resolve("ledger.key"), c.ledger().hmacKeyFile());
    assertEquals(java.util.Set.of("authorization", "x-secret"), c.ledger().redactHeaders());
    assertEquals(48, c.ledger().retainCycles());
    assertEquals(4096, c.ledger().minFreeBytes());
    assertEquals(io.countersign.ledger.LedgerOptions.defaults(),
        ConfigLoader.load(write("countersign.yaml", "agent_id: a\n" + ROUTE)).ledger());

    ConfigException roll = refused("agent_id: a\nledger:\n  roll: yearly\n" + ROUTE);
    assertTrue(roll.getMessage().contains("ledger.roll"), roll.getMessage());
    ConfigException key = refused("agent_id: a\nledger:\n  hmac_key_file: missing.key\n" + ROUTE);
    assertTrue(key.getMessage().contains("ledger.hmac_key_file"), key.getMessage());
  }
}
