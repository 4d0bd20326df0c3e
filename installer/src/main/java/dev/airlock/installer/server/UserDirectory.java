package dev.airlock.installer.server;

import dev.airlock.deploy.Deployer;
import dev.airlock.kube.Secrets;
import dev.airlock.license.Entitlements;
import dev.airlock.license.License;
import dev.airlock.license.LicenseFile;
import dev.airlock.rbac.RbacStore;
import dev.airlock.rbac.User;
import dev.airlock.rbac.UserName;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The platform's users as admins see them (the server's {@code /api/v1/users} and {@code airlock users list} on the
 * cluster give the same): groups, last login, open sessions, and the seats used of those the license allows. A seat
 * is a distinct user active in the last {@link #SEAT_WINDOW}.
 */
final class UserDirectory {

  static final Duration SEAT_WINDOW = Duration.ofDays(30);

  private UserDirectory() {}

  /** Users and seats: {@code users} as a list of maps, {@code seats} as {@code used}, {@code allowed}, {@code license}. */
  record Listing(List<Map<String, Object>> users, Map<String, Object> seats) {}

  static Listing list(KubernetesClient client, String namespace, Clock clock) {
    RbacStore store = new RbacStore(client, namespace);
    Map<String, Instant> last = store.lastLogins();
    List<Sessions.Session> sessions = new Sessions(client, namespace, clock).list();
    List<Map<String, Object>> users = new ArrayList<>();
    for (User u : store.users()) {
      String key = UserName.of(u.username());
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("username", u.username());
      m.put("groups", u.groups());
      m.put("lastLogin", last.get(key) == null ? null : last.get(key).toString());
      m.put("sessions", sessions.stream().filter(x -> x.userKey().equals(key)).count());
      users.add(m);
    }
    Instant now = clock.instant();
    License license = license(client, namespace);
    Map<String, Object> seats = new LinkedHashMap<>();
    seats.put("used", seatsUsed(last, now));
    seats.put("allowed", license == null ? null : license.seats());
    seats.put("license", license == null ? "none" : new Entitlements(license).state(now).name().toLowerCase(
        java.util.Locale.ROOT));
    return new Listing(users, seats);
  }

  static long seatsUsed(Map<String, Instant> lastLogins, Instant now) {
    return lastLogins.values().stream().filter(t -> t.isAfter(now.minus(SEAT_WINDOW))).count();
  }

  /** The license stored in the installation (Secret {@code airlock-license}), or null. */
  static License license(KubernetesClient client, String namespace) {
    var s = client.secrets().inNamespace(namespace).withName(Deployer.LICENSE_SECRET).get();
    return Secrets.value(s, "license.yaml").map(y -> LicenseFile.parse(y.getBytes(StandardCharsets.UTF_8),
        namespace + "/" + Deployer.LICENSE_SECRET).license()).orElse(null);
  }
}
