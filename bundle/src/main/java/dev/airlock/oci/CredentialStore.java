package dev.airlock.oci;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Finds credentials for a registry host. */
@FunctionalInterface
public interface CredentialStore {

  Optional<Credentials> lookup(String registryHost);

  static CredentialStore none() {
    return host -> Optional.empty();
  }

  static CredentialStore of(Map<String, Credentials> byHost) {
    Map<String, Credentials> copy = Map.copyOf(byHost);
    return host -> Optional.ofNullable(copy.get(host));
  }

  /** Asks each store in turn; the first answer wins. */
  static CredentialStore chain(List<CredentialStore> stores) {
    List<CredentialStore> copy = List.copyOf(stores);
    return host -> {
      for (CredentialStore s : copy) {
        Optional<Credentials> c = s.lookup(host);
        if (c.isPresent()) {
          return c;
        }
      }
      return Optional.empty();
    };
  }
}
