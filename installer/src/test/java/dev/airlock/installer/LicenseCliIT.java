package dev.airlock.installer;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The license commands end to end through ./airlock. */
class LicenseCliIT {

  static final ObjectMapper JSON = new ObjectMapper();
  @TempDir static Path dir;
  static final String EXPIRES = LocalDate.now().plusYears(1).toString();

  @BeforeAll
  static void keysAndLicense() {
    assertThat(Cli.run(dir, "keys", "create-root", "--out", "root").exit()).isZero();
    assertThat(Cli.run(dir, "keys", "create-signing", "--root-key", "root.key", "--out", "signing").exit()).isZero();
    Cli.Run issue = Cli.run(dir, "license", "issue", "--customer", "Acme Corp", "--product", "platform",
        "--expires", EXPIRES, "--grace-days", "30", "--updates-until", EXPIRES, "--seats", "250", "--clusters", "3",
        "--features", "sso-oidc,sso-saml,custom-roles,airgap", "--channel", "stable", "--key", "signing.key",
        "--cert", "signing.cert", "-o", "acme.license");
    assertThat(issue.exit()).as(issue.toString()).isZero();
  }

  @Test
  void verify_validLicense_exits0() throws IOException {
    Cli.Run v = Cli.run(dir, "license", "verify", "acme.license", "--trust-root", "root.pub", "--product",
        "platform", "--output", "json");
    assertThat(v.exit()).as(v.toString()).isZero();
    JsonNode r = JSON.readTree(v.outLines().get(v.outLines().size() - 1));
    assertThat(r.path("state").asText()).isEqualTo("valid");
    assertThat(r.path("daysLeft").asLong()).isBetween(360L, 367L);
  }

  @Test
  void inspect_showsEveryField() throws IOException {
    Cli.Run text = Cli.run(dir, "license", "inspect", "acme.license", "--trust-root", "root.pub");
    assertThat(text.exit()).as(text.toString()).isZero();
    assertThat(text.out()).contains("Acme Corp", "platform (channel stable)", "Seats:         250",
        "Clusters:      3", "airgap, custom-roles, sso-oidc, sso-saml", "Expires:       " + EXPIRES,
        "valid signature");
    JsonNode json = JSON.readTree(Cli.run(dir, "license", "inspect", "acme.license", "--output", "json").out());
    assertThat(json.path("seats").asInt()).isEqualTo(250);
    assertThat(json.path("verified").asBoolean()).as("no trusted root given").isFalse();
  }

  @Test
  void tamperedLicense_exits4_withoutStackTrace(@TempDir Path tmp) throws IOException {
    Path bad = tmp.resolve("bad.license");
    Files.writeString(bad, Files.readString(dir.resolve("acme.license")).replace("seats: 250", "seats: 9999"));
    Cli.Run v = Cli.run(tmp, "license", "verify", bad.toString(), "--trust-root", dir.resolve("root.pub").toString());
    assertThat(v.exit()).isEqualTo(4);
    assertThat(v.err()).contains("does not verify").doesNotContain("\tat ");
  }

  @Test
  void wrongProduct_exits4() {
    Cli.Run v = Cli.run(dir, "license", "verify", "acme.license", "--trust-root", "root.pub", "--product", "other");
    assertThat(v.exit()).isEqualTo(4);
    assertThat(v.err()).contains("is for product 'platform', not 'other'");
  }

  @Test
  void revokedSigningKey_exits4() throws IOException {
    String keyId = JSON.readTree(Cli.run(dir, "license", "inspect", "acme.license", "--output", "json").out())
        .path("signer").asText();
    Cli.Run revoke = Cli.run(dir, "keys", "revoke", "--root-key", "root.key", "--key-id", keyId, "--list",
        "revoked.json");
    assertThat(revoke.exit()).as(revoke.toString()).isZero();
    Cli.Run v = Cli.run(dir, "license", "verify", "acme.license", "--trust-root", "root.pub", "--revocations",
        "revoked.json");
    assertThat(v.exit()).isEqualTo(4);
    assertThat(v.err()).contains("has been revoked");
  }

  @Test
  void revocationsShippedInABundle_apply_toLicenses(@TempDir Path tmp) throws IOException {
    org.junit.jupiter.api.Assumptions.assumeTrue(dev.airlock.testing.RegistryServer.available());
    String keyId = JSON.readTree(Cli.run(dir, "license", "inspect", "acme.license", "--output", "json").out())
        .path("signer").asText();
    assertThat(Cli.run(tmp, "keys", "revoke", "--root-key", dir.resolve("root.key").toString(), "--key-id", keyId,
        "--list", "revoked.json").exit()).isZero();
    Path spec = tmp.resolve("bundle.yaml");
    Files.createDirectories(tmp.resolve("chart"));
    Files.writeString(tmp.resolve("chart/Chart.yaml"), "apiVersion: v2\nname: c\nversion: 0.1.0\n");
    Files.writeString(spec, "apiVersion: airlock.dev/v1alpha1\nkind: Bundle\nname: platform\nversion: 1.5.0\n"
        + "revocations: revoked.json\ncomponents:\n  - name: c\n    chart: {path: chart}\n");
    // A fresh signing key (the revoked one signed the license) signs the bundle that ships the list.
    assertThat(Cli.run(tmp, "keys", "create-signing", "--root-key", dir.resolve("root.key").toString(), "--out",
        "next").exit()).isZero();
    Cli.Run build = Cli.run(tmp, "bundle", "build", "-f", spec.toString(), "-o", "p.airlock", "--key", "next.key",
        "--cert", "next.cert");
    assertThat(build.exit()).as(build.toString()).isZero();
    Cli.Run v = Cli.run(dir, "license", "verify", "acme.license", "--trust-root", "root.pub", "--revocations",
        tmp.resolve("p.airlock").toString());
    assertThat(v.exit()).as(v.toString()).isEqualTo(4);
    assertThat(v.err()).contains("signing key " + keyId + " has been revoked");
    Cli.Run inspect = Cli.run(tmp, "bundle", "inspect", "p.airlock");
    assertThat(inspect.out()).contains("ships a revocation list");
  }

  @Test
  void badDateFlag_exits2() {
    Cli.Run r = Cli.run(dir, "license", "issue", "--customer", "A", "--product", "p", "--expires", "31/12/2027",
        "--seats", "1", "--key", "signing.key", "--cert", "signing.cert", "-o", "x.license");
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("--expires '31/12/2027' is not a date").contains("YYYY-MM-DD");
    assertThat(dir.resolve("x.license")).doesNotExist();
  }
}
