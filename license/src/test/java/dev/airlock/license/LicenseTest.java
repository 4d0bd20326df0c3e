package dev.airlock.license;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.airlock.error.AirlockException;
import dev.airlock.keys.Ed25519;
import dev.airlock.keys.KeyFiles;
import dev.airlock.keys.KeyId;
import dev.airlock.keys.RevocationList;
import dev.airlock.keys.SigningKey;
import dev.airlock.keys.TrustedRoots;
import dev.airlock.version.SemVer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class LicenseTest {

  static final Instant ISSUED = Instant.parse("2026-11-22T10:00:00Z");
  static final LocalDate EXPIRES = LocalDate.parse("2027-12-31");
  static final LocalDate UPDATES_UNTIL = LocalDate.parse("2027-06-30");

  @TempDir Path dir;
  SigningKey key;
  TrustedRoots roots;
  LicenseFile file;
  String yaml;

  @BeforeEach
  void issue() {
    KeyFiles.createRoot(dir.resolve("root"));
    KeyFiles.createSigning(dir.resolve("root.key"), dir.resolve("signing"), "vendor", Duration.ofDays(365),
        ISSUED.minus(Duration.ofDays(1)));
    key = SigningKey.load(dir.resolve("signing.key"), dir.resolve("signing.cert"));
    roots = TrustedRoots.of(List.of(Ed25519.readPublicKey(dir.resolve("root.pub"))));
    file = LicenseIssuer.issue(terms(0), key, ISSUED);
    yaml = file.toYaml();
  }

  static LicenseIssuer.Terms terms(long sequence) {
    return new LicenseIssuer.Terms("Acme Corp", "platform", EXPIRES, 30, UPDATES_UNTIL, 250, 3,
        List.of("sso-oidc", "sso-saml", "custom-roles", "airgap"), "stable", sequence);
  }

  LicenseVerifier.Verified verify(String text, Instant now) {
    return new LicenseVerifier(roots).verify(LicenseFile.parse(text.getBytes(StandardCharsets.UTF_8), "test"), now);
  }

  static Instant day(String date) {
    return Instant.parse(date + "T12:00:00Z");
  }

  @Test
  void issuedLicense_roundTripsThroughYaml_andVerifies() {
    LicenseVerifier.Verified v = verify(yaml, ISSUED.plusSeconds(60));
    License l = v.license();
    assertThat(l.customer()).isEqualTo("Acme Corp");
    assertThat(l.features()).containsExactly("airgap", "custom-roles", "sso-oidc", "sso-saml");
    assertThat(l.sequence()).isEqualTo(ISSUED.getEpochSecond());
    assertThat(l.id()).matches("lic-[0-9a-f]{32}");
    assertThat(v.signerKeyId()).isEqualTo(key.certificate().keyId());
    assertThat(yaml).contains("customer: Acme Corp", "expires: 2027-12-31", "seats: 250");
  }

  @Test
  void reformattingWithoutChangingMeaning_staysValid() {
    String reordered = yaml.replace("  - airgap\n  - custom-roles\n", "  - custom-roles\n  - airgap\n")
        .replace("customer: Acme Corp", "customer: \"Acme Corp\"");
    verify(reordered, ISSUED.plusSeconds(60));
  }

  @ParameterizedTest(name = "tampered {0}")
  @CsvSource(delimiter = '|', value = {
      "id| id: lic-| id: lic-0",
      "customer| customer: Acme Corp| customer: Acme Corq",
      "product| product: platform| product: platforn",
      "issued| issued: 2026-11-22T10:00:00Z| issued: 2026-11-22T10:00:01Z",
      "sequence| sequence: 1795341600| sequence: 1795341601",
      "expires| expires: 2027-12-31| expires: 2028-12-31",
      "graceDays| graceDays: 30| graceDays: 31",
      "updatesUntil| updatesUntil: 2027-06-30| updatesUntil: 2027-07-30",
      "seats| seats: 250| seats: 2500",
      "clusters| clusters: 3| clusters: 30",
      "features| - sso-saml| - sso-samm",
      "channel| channel: stable| channel: beta"})
  void everyFieldIsCoveredByTheSignature(String field, String from, String to) {
    String original = field.equals("id") ? " id: " + file.license().id() : from;
    String changed = field.equals("id") ? " id: lic-" + "0".repeat(32) : to;
    assertThat(yaml).contains(original);
    String tampered = yaml.replace(original, changed);
    assertThatThrownBy(() -> verify(tampered, ISSUED.plusSeconds(60)))
        .isInstanceOf(AirlockException.class)
        .hasMessageContaining("does not verify with signing key " + key.certificate().keyId());
  }

  @Test
  void signatureOfAnotherKey_isRefused() {
    Ed25519.PrivateKey other = Ed25519.generate();
    String sig = java.util.Base64.getEncoder().encodeToString(other.sign(file.license().signedBytes()));
    String forged = yaml.replace(file.signature().value(), sig);
    assertThatThrownBy(() -> verify(forged, ISSUED.plusSeconds(60))).hasMessageContaining("does not verify");
  }

  @Test
  void signingKeyFromAnUntrustedRoot_isRefused(@TempDir Path other) {
    KeyFiles.createRoot(other.resolve("root"));
    KeyFiles.createSigning(other.resolve("root.key"), other.resolve("s"), "x", Duration.ofDays(10), ISSUED);
    LicenseFile foreign = LicenseIssuer.issue(terms(0), SigningKey.load(other.resolve("s.key"),
        other.resolve("s.cert")), ISSUED.plusSeconds(1));
    assertThatThrownBy(() -> verify(foreign.toYaml(), ISSUED.plusSeconds(60)))
        .isInstanceOf(AirlockException.class)
        .hasMessageContaining("which this installer does not trust");
  }

  @Test
  void unknownKeyId_isRefused() {
    String wrongId = yaml.replace("keyId: " + key.certificate().keyId() + "\n  certificate:",
        "keyId: 0123456789abcdef\n  certificate:");
    assertThatThrownBy(() -> verify(wrongId, ISSUED.plusSeconds(60)))
        .hasMessageContaining("names key 0123456789abcdef but carries the certificate of key");
  }

  @Test
  void revokedSigningKey_isRefused() {
    RevocationList list = RevocationList.revoke(null, Set.of(new KeyId(key.certificate().keyId())),
        Ed25519.readPrivateKey(dir.resolve("root.key")), ISSUED);
    TrustedRoots revoking = roots.withRevocations(list);
    assertThatThrownBy(() -> new LicenseVerifier(revoking).verify(file, ISSUED.plusSeconds(60)))
        .hasMessageContaining("has been revoked");
  }

  @Test
  void clockBeforeIssueTime_isRefusedWithAClockMessage() {
    assertThatThrownBy(() -> verify(yaml, ISSUED.minus(Duration.ofHours(2))))
        .isInstanceOf(AirlockException.class)
        .hasMessageContaining("this machine's clock says")
        .hasMessageContaining("before license")
        .satisfies(e -> assertThat(((AirlockException) e).fix()).hasValueSatisfying(f -> assertThat(f)
            .contains("clock")));
  }

  @Test
  void licenseOutlivesItsSigningCertificate() {
    // The certificate ends 2027-11-21; the license runs to 2027-12-31 and stays verifiable.
    verify(yaml, day("2027-12-15"));
  }

  @Test
  void malformedFiles_areRefusedClearly() {
    assertThatThrownBy(() -> LicenseFile.parse("{{{".getBytes(), "x.license"))
        .hasMessageContaining("x.license").hasMessageContaining("is not a valid license file");
    assertThatThrownBy(() -> LicenseFile.parse("apiVersion: v0\nkind: License\n".getBytes(), "x.license"))
        .hasMessageContaining("is not an airlock.dev/v1alpha1 License");
    assertThatThrownBy(() -> LicenseFile.parse(yaml.replace("  seats: 250\n", "").getBytes(), "x.license"))
        .hasMessageContaining("seats");
    assertThatThrownBy(() -> LicenseFile.parse(yaml.replace("seats: 250", "seats: lots").getBytes(), "x.license"))
        .hasMessageContaining("is not a valid license file");
    byte[] huge = (yaml + "#" + "x".repeat(LicenseFile.MAX_SIZE)).getBytes();
    assertThatThrownBy(() -> LicenseFile.parse(huge, "x.license")).hasMessageContaining("a license file is at most");
  }

  @Test
  void unknownField_isRefused_notIgnored() {
    String extra = yaml.replace("  seats: 250\n", "  seats: 250\n  unlimited: true\n");
    assertThatThrownBy(() -> LicenseFile.parse(extra.getBytes(), "x.license"))
        .hasMessageContaining("unlimited");
  }

  // ---- states and decisions ------------------------------------------------------------------------------------

  @ParameterizedTest(name = "{0} is {1}")
  @CsvSource({
      "2026-12-01, VALID", "2027-12-01, VALID", "2027-12-02, EXPIRING", "2027-12-30, EXPIRING",
      "2027-12-31, EXPIRING", "2028-01-01, GRACE", "2028-01-30, GRACE", "2028-01-31, EXPIRED"})
  void statesAtTheBoundaries(String date, LicenseState expected) {
    // expires 2027-12-31 (last valid day), warning from 30 days before, 30 grace days end 2028-01-30.
    assertThat(new Entitlements(file.license()).state(day(date))).isEqualTo(expected);
  }

  @Test
  void graceBoundaries_dayBeforeDayOfDayAfter() {
    Entitlements e = new Entitlements(file.license());
    SemVer v = SemVer.parse("1.4.0");
    LocalDate released = LocalDate.parse("2027-01-10");
    assertThat(e.canInstall("platform", v, released, day("2027-12-30")).allowed()).isTrue();
    Decision lastDay = e.canInstall("platform", v, released, day("2027-12-31"));
    assertThat(lastDay.allowed()).isTrue();
    assertThat(lastDay.warning()).isTrue();
    assertThat(lastDay.message()).contains("expires in 0 days, on 2027-12-31");
    Decision grace = e.canInstall("platform", v, released, day("2028-01-01"));
    assertThat(grace.allowed()).isTrue();
    assertThat(grace.state()).isEqualTo(LicenseState.GRACE);
    assertThat(grace.message()).contains("grace period, which ends on 2028-01-30");
    assertThat(e.canInstall("platform", v, released, day("2028-01-30")).allowed()).isTrue();
    Decision expired = e.canInstall("platform", v, released, day("2028-01-31"));
    assertThat(expired.allowed()).isFalse();
    assertThat(expired.message()).contains("expired on 2027-12-31", "grace period ended on 2028-01-30",
        "airlock license update");
  }

  @Test
  void validStateDecisions() {
    Entitlements e = new Entitlements(file.license());
    Instant now = day("2027-01-15");
    Decision install = e.canInstall("platform", SemVer.parse("1.4.0"), LocalDate.parse("2027-01-10"), now);
    assertThat(install.allowed()).isTrue();
    assertThat(install.warning()).isFalse();
    assertThat(install.message()).contains("licensed until 2027-12-31");
    assertThat(e.canUpgrade("platform", SemVer.parse("1.3.0"), SemVer.parse("1.4.0"), LocalDate.parse("2027-06-30"),
        now).allowed()).isTrue();
    Decision late = e.canUpgrade("platform", SemVer.parse("1.3.0"), SemVer.parse("1.5.0"),
        LocalDate.parse("2027-07-01"), now);
    assertThat(late.allowed()).isFalse();
    assertThat(late.message()).contains("released on 2027-07-01", "covers releases until 2027-06-30");
    Decision wrongProduct = e.canInstall("other", SemVer.parse("1.0.0"), LocalDate.parse("2027-01-10"), now);
    assertThat(wrongProduct.allowed()).isFalse();
    assertThat(wrongProduct.message()).contains("is for product 'platform', not 'other'");
    assertThat(e.seatAvailable(249, now).allowed()).isTrue();
    Decision full = e.seatAvailable(250, now);
    assertThat(full.allowed()).isFalse();
    assertThat(full.message()).contains("all 250 seats are in use");
    assertThat(e.feature("sso-saml", now).allowed()).isTrue();
    assertThat(e.feature("audit-export", now).allowed()).isFalse();
    assertThat(e.feature("audit-export", now).message()).contains("not in license");
    assertThat(e.clusters()).isEqualTo(3);
  }

  @Test
  void graceAndExpiredStateDecisions() {
    Entitlements e = new Entitlements(file.license());
    Decision graceSeat = e.seatAvailable(10, day("2028-01-05"));
    assertThat(graceSeat.allowed()).isFalse();
    assertThat(graceSeat.message()).contains("no new seats", "grace period until 2028-01-30");
    assertThat(e.feature("airgap", day("2028-01-05")).allowed()).isTrue();
    Instant expired = day("2028-03-01");
    assertThat(e.seatAvailable(10, expired).allowed()).isFalse();
    assertThat(e.canUpgrade("platform", SemVer.parse("1.3.0"), SemVer.parse("1.4.0"), LocalDate.parse("2027-01-01"),
        expired).allowed()).isFalse();
    assertThat(e.feature("airgap", expired).allowed()).as("a running platform keeps running").isTrue();
  }

  @Test
  void updates_needSameCustomerSameProductAndHigherSequence() {
    License installed = file.license();
    License newer = LicenseIssuer.issue(terms(installed.sequence() + 1), key, ISSUED.plusSeconds(5)).license();
    assertThat(LicenseUpdates.check(installed, newer, LicenseState.VALID).allowed()).isTrue();
    Decision older = LicenseUpdates.check(newer, installed, LicenseState.VALID);
    assertThat(older.allowed()).isFalse();
    assertThat(older.message()).contains("not higher than the installed license's");
    License otherCustomer = LicenseIssuer.issue(new LicenseIssuer.Terms("Globex", "platform", EXPIRES, 30,
        UPDATES_UNTIL, 5, 1, List.of(), "stable", installed.sequence() + 5), key, ISSUED).license();
    assertThat(LicenseUpdates.check(installed, otherCustomer, LicenseState.VALID).message())
        .contains("is for 'Globex'");
  }

  @Test
  void issuing_refusesPastEndDatesAndDuplicateFeatures() {
    assertThatThrownBy(() -> LicenseIssuer.issue(new LicenseIssuer.Terms("A", "platform",
        LocalDate.parse("2026-11-22"), 0, UPDATES_UNTIL, 1, 1, List.of(), "stable", 0), key, ISSUED))
        .hasMessageContaining("is not after today");
    assertThatThrownBy(() -> LicenseIssuer.issue(new LicenseIssuer.Terms("A", "platform", EXPIRES, 0,
        UPDATES_UNTIL, 1, 1, List.of("a", "a"), "stable", 0), key, ISSUED))
        .hasMessageContaining("features");
  }
}
