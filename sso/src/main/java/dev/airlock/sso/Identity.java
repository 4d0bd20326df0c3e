package dev.airlock.sso;

import java.time.Instant;
import java.util.List;
import java.util.Map;

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
 * @param attributes every text-valued claim (OIDC) or attribute (SAML), for mapping rules on other values than
 *     groups (e.g. {@code department})
 */
public record Identity(String connector, String subject, String username, String email, String displayName,
    List<String> groups, Instant authenticatedAt, Instant sessionExpires, Map<String, List<String>> attributes) {

  public Identity {
    groups = List.copyOf(groups);
    attributes = Map.copyOf(attributes);
  }

  public Identity(String connector, String subject, String username, String email, String displayName,
      List<String> groups, Instant authenticatedAt, Instant sessionExpires) {
    this(connector, subject, username, email, displayName, groups, authenticatedAt, sessionExpires, Map.of());
  }
}
