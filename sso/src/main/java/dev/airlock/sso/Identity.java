package dev.airlock.sso;

import java.time.Instant;
import java.util.List;

/**
 * Who logged in, as a connector verified it.
 *
 * @param connector the connector's name
 * @param subject the IdP's stable id for the user (OIDC {@code sub}, SAML NameID)
 * @param username the name airlock uses (personal namespaces, RBAC {@code {{user}}}), from the configured claim
 * @param email a verified email, or null
 * @param groups the groups the IdP asserted, after the connector's group filter
 * @param authenticatedAt when the user authenticated at the IdP
 * @param sessionExpires when the login stops being good for new credentials
 */
public record Identity(String connector, String subject, String username, String email, String displayName,
    List<String> groups, Instant authenticatedAt, Instant sessionExpires) {

  public Identity {
    groups = List.copyOf(groups);
  }
}
