package dev.airlock.sso.oidc;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.oauth2.sdk.http.HTTPRequest;
import com.nimbusds.oauth2.sdk.http.HTTPResponse;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import java.io.IOException;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The provider's signing keys (JWKS), cached. A token whose {@code kid} is not in the cache makes one fresh fetch
 * (the provider may have rotated its keys), however recently the keys were fetched for other reasons: a provider
 * that publishes a new key right after airlock's first fetch must still be asked. Only these refetches for unknown
 * kids are limited, to one per {@link #REFETCH_INTERVAL}, so forged tokens cannot make airlock hammer the provider.
 */
final class CachedJwks {

  static final Duration REFETCH_INTERVAL = Duration.ofSeconds(30);

  /** Sends a request: the relying party's, with its TLS trust. */
  interface Sender {
    HTTPResponse send(HTTPRequest r) throws IOException;
  }

  private final URI uri;
  private final Sender sender;
  private final Clock clock;
  private JWKSet keys;
  /** When a kid not in the cache last made a fetch; never, at first. */
  private Instant unknownKidFetch;
  private int fetches;

  CachedJwks(URI uri, Sender sender, Clock clock) {
    this.uri = uri;
    this.sender = sender;
    this.clock = clock;
  }

  /** A lookup's answer: the key, if any, and whether the provider was asked again for it. */
  record Lookup(Optional<JWK> key, boolean fetchedAgain) {}

  /** The key for {@code kid} (or the only one fitting {@code alg} when the token names none). */
  synchronized Lookup find(String kid, JWSAlgorithm alg) {
    if (keys == null) {
      fetch();
    }
    Optional<JWK> k = match(kid, alg);
    if (k.isPresent()) {
      return new Lookup(k, false);
    }
    Instant now = clock.instant();
    if (unknownKidFetch != null && Duration.between(unknownKidFetch, now).compareTo(REFETCH_INTERVAL) < 0) {
      return new Lookup(k, false);
    }
    unknownKidFetch = now;
    fetch();
    return new Lookup(match(kid, alg), true);
  }

  /** How many times the keys were fetched (for tests). */
  synchronized int fetches() {
    return fetches;
  }

  private Optional<JWK> match(String kid, JWSAlgorithm alg) {
    List<JWK> usable = keys.getKeys().stream().filter(k -> k.getKeyUse() == null || k.getKeyUse() == KeyUse.SIGNATURE)
        .filter(k -> k.getAlgorithm() == null || k.getAlgorithm().equals(alg)).toList();
    if (kid != null) {
      return usable.stream().filter(k -> kid.equals(k.getKeyID())).findFirst();
    }
    return usable.size() == 1 ? Optional.of(usable.get(0)) : Optional.empty();
  }

  private void fetch() {
    if (uri == null) {
      throw new AirlockException(Kind.REMOTE, "the provider publishes no jwks_uri", "check the IdP's discovery "
          + "document");
    }
    try {
      HTTPResponse r = sender.send(new HTTPRequest(HTTPRequest.Method.GET, uri));
      if (r.getStatusCode() != 200) {
        throw new AirlockException(Kind.REMOTE, "the provider's keys at " + uri + " answered HTTP "
            + r.getStatusCode(), "check that the IdP is healthy");
      }
      keys = JWKSet.parse(r.getBody());
      fetches++;
    } catch (IOException e) {
      throw new AirlockException(Kind.REMOTE, "cannot fetch the provider's keys from " + uri + ": "
          + e.getMessage(), "check that the IdP is reachable from here", e);
    } catch (java.text.ParseException e) {
      throw new AirlockException(Kind.REMOTE, "the provider's keys at " + uri + " are not a JWK set",
          "check the IdP", e);
    }
  }
}
