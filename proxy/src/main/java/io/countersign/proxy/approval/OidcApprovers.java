package io.countersign.proxy.approval;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.util.DefaultResourceRetriever;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import java.net.MalformedURLException;
import java.net.URI;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Approvers who present an OIDC ID or access token (a JWT): its signature is checked against the
 * identity provider's JWKS (fetched over HTTPS, cached, refreshed on an unknown key id), and its
 * issuer, audience and expiry must match. The approver's name and groups come from configured
 * claims. Thread-safe. Verification may fetch the JWKS, so callers keep it off event loops.
 */
public final class OidcApprovers {
  private static final Logger LOG = LoggerFactory.getLogger(OidcApprovers.class);

  /**
   * The OIDC settings.
   *
   * @param issuer the exact {@code iss} expected
   * @param audience the {@code aud} that must be present
   * @param jwksUrl where the IdP publishes its signing keys
   * @param nameClaim the claim naming the approver (e.g. {@code email})
   * @param groupsClaim the claim listing the approver's groups (e.g. {@code groups})
   */
  public record Settings(String issuer, String audience, String jwksUrl, String nameClaim,
      String groupsClaim) {}

  private final Settings settings;
  private final DefaultJWTProcessor<SecurityContext> processor = new DefaultJWTProcessor<>();

  /**
   * @throws IllegalArgumentException when the JWKS URL is not a URL
   */
  public OidcApprovers(Settings settings) {
    this.settings = settings;
    JWKSource<SecurityContext> keys;
    try {
      keys = JWKSourceBuilder.<SecurityContext>create(URI.create(settings.jwksUrl()).toURL(),
              new DefaultResourceRetriever(2000, 2000, 512 * 1024))
          .retrying(true)
          .build();
    } catch (MalformedURLException e) {
      throw new IllegalArgumentException("oidc.jwks_url is not a URL: " + settings.jwksUrl(), e);
    }
    Set<JWSAlgorithm> algorithms = new HashSet<>();
    algorithms.addAll(JWSAlgorithm.Family.RSA);
    algorithms.addAll(JWSAlgorithm.Family.EC);
    processor.setJWSKeySelector(new JWSVerificationKeySelector<>(algorithms, keys));
    processor.setJWTClaimsSetVerifier(new DefaultJWTClaimsVerifier<>(
        settings.audience(),
        new JWTClaimsSet.Builder().issuer(settings.issuer()).build(),
        Set.of("exp", settings.nameClaim())));
  }

  /** The approver a valid JWT names, or empty when the token does not verify. */
  public Optional<Approver> authenticate(String token) {
    try {
      JWTClaimsSet claims = processor.process(token, null);
      String name = claims.getStringClaim(settings.nameClaim());
      Set<String> groups = new HashSet<>();
      Object g = claims.getClaim(settings.groupsClaim());
      if (g instanceof List<?> list) {
        list.forEach(x -> groups.add(String.valueOf(x)));
      } else if (g instanceof String s) {
        groups.add(s);
      }
      return Optional.of(new Approver(name, Set.copyOf(groups)));
    } catch (Exception e) {
      LOG.info("an approver token was refused: {}", e.getMessage());
      return Optional.empty();
    }
  }
}
