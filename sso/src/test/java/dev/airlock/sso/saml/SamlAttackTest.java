package dev.airlock.sso.saml;

import static dev.airlock.sso.saml.SamlServiceProvider.SAML;
import static dev.airlock.sso.saml.SamlServiceProvider.SAMLP;
import static dev.airlock.sso.saml.TestSamlIdp.SHA256;
import static dev.airlock.sso.saml.TestSamlIdp.SHA256_RSA;
import static dev.airlock.sso.saml.TestSamlIdp.assertion;
import static dev.airlock.sso.saml.TestSamlIdp.encode;
import static dev.airlock.sso.saml.TestSamlIdp.signature;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.airlock.error.AirlockException;
import dev.airlock.sso.Identity;
import dev.airlock.sso.LoginRefused;
import dev.airlock.sso.MutableClock;
import dev.airlock.sso.ReplayCache;
import dev.airlock.sso.SsoConfig;
import dev.airlock.testing.Pki;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Comment;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/**
 * The SAML half of the attack catalogue, one test per attack, forged here with the test's own keys: unsigned and
 * half-signed responses, the eight signature-wrapping variants of SAMLRaider (XSW1–8), extra and misplaced
 * assertions, duplicate ids, comment injection, keys carried in KeyInfo, weak algorithms, DTDs, XXE and XSLT, every
 * condition and its skew edge to the second, InResponseTo and replays, and encrypted-but-unsigned assertions.
 */
class SamlAttackTest {

  static final String ACS = "http://127.0.0.1:8400/sso/saml/corp/acs";
  static final String SP = "airlock-sp";

  @TempDir static Path dir;
  static Pki.Issued spKeys = Pki.selfSignedRsa("airlock sp");

  MutableClock clock = MutableClock.at("2026-12-01T10:00:00Z");
  TestSamlIdp idp = new TestSamlIdp(clock);
  ReplayCache replays = ReplayCache.inMemory();

  @BeforeAll
  static void files() throws Exception {
    Files.writeString(dir.resolve("sp.key"), Pki.pkcs8Pem(spKeys.key()));
    Files.writeString(dir.resolve("sp.crt"), spKeys.certPem());
  }

  SamlServiceProvider sp(String extra) {
    SsoConfig.Saml c = (SsoConfig.Saml) SsoConfig.parse("sso.yaml", """
        apiVersion: airlock.dev/v1alpha1
        kind: SSOConfig
        connectors:
          - name: corp
            type: saml
            entityId: airlock-sp
            idpMetadata: {file: idp.xml}
            spKey: {file: sp.key}
            spCertificate: sp.crt
        %s""".formatted(extra.indent(4)), dir).connector("corp");
    return new SamlServiceProvider(c, idp.metadata(), replays, clock, Map.<String, String>of()::get);
  }

  SamlServiceProvider sp = sp("");
  SamlServiceProvider.Pending pending = sp.begin(URI.create(ACS), null).pending();

  TestSamlIdp.Response response() {
    return idp.new Response(ACS, SP, pending.requestId());
  }

  /** An honest response with a signed assertion, edited by {@code edit} before signing. */
  Document signedAssertion(Consumer<TestSamlIdp.Response> edit) {
    TestSamlIdp.Response r = response();
    edit.accept(r);
    Document doc = r.document();
    idp.sign(assertion(doc));
    return doc;
  }

  Identity complete(Document doc) {
    return sp.complete(encode(doc), pending, URI.create(ACS));
  }

  static void refused(ThrowingCallable call, String check) {
    assertThatThrownBy(call).isInstanceOfSatisfying(AirlockException.class, e -> {
      assertThat(e.kind()).as(e.getMessage()).isEqualTo(AirlockException.Kind.DENIED);
      assertThat(e.get(LoginRefused.CHECK)).as(e.getMessage()).contains(check);
      assertThat(e.fix()).isPresent();
    });
  }

  @Test
  void honestResponses_signedAssertion_signedBoth_signedResponseWhenAllowed_pass() {
    Identity id = complete(signedAssertion(r -> { }));
    assertThat(id.username()).isEqualTo("alice");
    assertThat(id.groups()).containsExactly("devs", "all-staff");
    assertThat(id.email()).isEqualTo("alice@corp.example");

    pending = sp.begin(URI.create(ACS), null).pending();
    Document both = signedAssertion(r -> { });
    idp.sign(both.getDocumentElement());
    assertThat(complete(both).username()).isEqualTo("alice");

    sp = sp("wantAssertionsSigned: false");
    pending = sp.begin(URI.create(ACS), null).pending();
    Document responseOnly = response().document();
    idp.sign(responseOnly.getDocumentElement());
    assertThat(complete(responseOnly).username()).isEqualTo("alice");
  }

  // ---- unsigned

  @Test
  void anUnsignedResponse_isRefused() {
    refused(() -> complete(response().document()), SamlServiceProvider.UNSIGNED);
  }

  @Test
  void anUnsignedAssertion_inASignedResponse_isRefusedWhenTheConnectorWantsSignedAssertions() {
    Document doc = response().document();
    idp.sign(doc.getDocumentElement());
    refused(() -> complete(doc), SamlServiceProvider.UNSIGNED);
  }

  // ---- signature wrapping (SAMLRaider's XSW1–XSW8)

  /** A response signed at the response level, its assertion unsigned (for the response-signature variants). */
  Document signedResponse() {
    sp = sp("wantAssertionsSigned: false");
    pending = sp.begin(URI.create(ACS), null).pending();
    Document doc = response().document();
    idp.sign(doc.getDocumentElement());
    return doc;
  }

  /** The attacker's edit: a new id and another user, in a copy of {@code e}. */
  static Element evil(Element e, String newId) {
    Element copy = (Element) e.cloneNode(true);
    if (newId != null) {
      copy.setAttribute("ID", newId);
    }
    var names = copy.getElementsByTagNameNS(SAML, "NameID");
    names.item(0).setTextContent("admin");
    return copy;
  }

  @Test
  void xsw1_theSignedResponseMovedIntoTheSignature_underAnEvilResponse_isRefused() {
    Document doc = signedResponse();
    Element original = doc.getDocumentElement();
    Element evilResponse = evil(original, "_evil-response");
    assertion(evilResponse.getOwnerDocument()); // same document
    ((Element) evilResponse.getElementsByTagNameNS(SAML, "Assertion").item(0)).setAttribute("ID", "_evil-assertion");
    Element sig = signature(evilResponse);
    Element clone = (Element) original.cloneNode(true);
    clone.removeChild(signature(clone));
    sig.appendChild(clone);
    doc.replaceChild(evilResponse, original);
    refused(() -> complete(doc), SamlServiceProvider.SIGNATURE);
  }

  @Test
  void xsw2_theSignedResponseBeforeADetachedSignature_underAnEvilResponse_isRefused() {
    Document doc = signedResponse();
    Element original = doc.getDocumentElement();
    Element evilResponse = evil(original, "_evil-response");
    ((Element) evilResponse.getElementsByTagNameNS(SAML, "Assertion").item(0)).setAttribute("ID", "_evil-assertion");
    Element clone = (Element) original.cloneNode(true);
    clone.removeChild(signature(clone));
    evilResponse.insertBefore(clone, signature(evilResponse));
    doc.replaceChild(evilResponse, original);
    refused(() -> complete(doc), SamlServiceProvider.SIGNATURE);
  }

  @Test
  void xsw3_anEvilAssertionBeforeTheSignedOne_isRefused() {
    Document doc = signedAssertion(r -> { });
    Element signed = assertion(doc);
    Element evil = evil(signed, "_evil");
    evil.removeChild(signature(evil));
    signed.getParentNode().insertBefore(evil, signed);
    refused(() -> complete(doc), SamlServiceProvider.ASSERTION_COUNT);
  }

  @Test
  void xsw4_anEvilAssertionWrappingTheSignedOne_isRefused() {
    Document doc = signedAssertion(r -> { });
    Element signed = assertion(doc);
    Element evil = evil(signed, "_evil");
    evil.removeChild(signature(evil));
    signed.getParentNode().replaceChild(evil, signed);
    evil.appendChild(signed);
    refused(() -> complete(doc), SamlServiceProvider.ASSERTION_COUNT);
  }

  @Test
  void xsw5_theSignedAssertionEdited_anUnsignedCopyOfTheOriginalAtTheEnd_isRefused() {
    Document doc = signedAssertion(r -> { });
    Element signed = assertion(doc);
    Element copy = (Element) signed.cloneNode(true);
    copy.removeChild(signature(copy));
    signed.getElementsByTagNameNS(SAML, "NameID").item(0).setTextContent("admin");
    doc.getDocumentElement().appendChild(copy);
    refused(() -> complete(doc), SamlServiceProvider.DUPLICATE_ID);
  }

  @Test
  void xsw6_theSignedAssertionEdited_theOriginalInsideItsSignature_isRefused() {
    Document doc = signedAssertion(r -> { });
    Element signed = assertion(doc);
    Element copy = (Element) signed.cloneNode(true);
    copy.removeChild(signature(copy));
    signed.getElementsByTagNameNS(SAML, "NameID").item(0).setTextContent("admin");
    signature(signed).appendChild(copy);
    refused(() -> complete(doc), SamlServiceProvider.DUPLICATE_ID);
  }

  @Test
  void xsw7_anEvilUnsignedAssertionInExtensions_besideTheSignedOne_isRefused() {
    Document doc = signedAssertion(r -> { });
    Element signed = assertion(doc);
    Element evil = evil(signed, "_evil");
    evil.removeChild(signature(evil));
    Element ext = doc.createElementNS(SAMLP, "samlp:Extensions");
    ext.appendChild(evil);
    doc.getDocumentElement().insertBefore(ext, signed);
    refused(() -> complete(doc), SamlServiceProvider.ASSERTION_COUNT);
  }

  @Test
  void xsw8_theOriginalInAnObjectOfTheSignature_theAssertionEdited_isRefused() {
    Document doc = signedAssertion(r -> { });
    Element signed = assertion(doc);
    Element copy = (Element) signed.cloneNode(true);
    copy.removeChild(signature(copy));
    Element object = doc.createElementNS(SamlServiceProvider.DS, "ds:Object");
    object.appendChild(copy);
    signature(signed).appendChild(object);
    signed.getElementsByTagNameNS(SAML, "NameID").item(0).setTextContent("admin");
    refused(() -> complete(doc), SamlServiceProvider.DUPLICATE_ID);
  }

  @Test
  void xsw_withFreshIds_theSignatureNoLongerCoversTheAssertionThatIsRead_isRefused() {
    // XSW5 with the attacker renaming the evil assertion: one assertion, signed by a signature for another id.
    Document doc = signedAssertion(r -> { });
    Element signed = assertion(doc);
    signed.setAttribute("ID", "_evil");
    signed.getElementsByTagNameNS(SAML, "NameID").item(0).setTextContent("admin");
    refused(() -> complete(doc), SamlServiceProvider.SIGNATURE);
  }

  // ---- assertions in the wrong number or place

  @Test
  void aSecondSignedAssertion_isRefused() {
    Document doc = signedAssertion(r -> { });
    Document other = signedAssertion(r -> {
      r.assertionId = "_second";
      r.nameId = "admin";
    });
    Node second = doc.importNode(assertion(other), true);
    doc.getDocumentElement().appendChild(second);
    refused(() -> complete(doc), SamlServiceProvider.ASSERTION_COUNT);
  }

  @Test
  void theOnlyAssertion_insideExtensions_isRefused() {
    Document doc = signedAssertion(r -> { });
    Element signed = assertion(doc);
    Element ext = doc.createElementNS(SAMLP, "samlp:Extensions");
    doc.getDocumentElement().replaceChild(ext, signed);
    ext.appendChild(signed);
    refused(() -> complete(doc), SamlServiceProvider.ASSERTION_COUNT);
  }

  @Test
  void duplicateIds_areRefused() {
    Document doc = signedAssertion(r -> r.responseId = r.assertionId);
    refused(() -> complete(doc), SamlServiceProvider.DUPLICATE_ID);
  }

  // ---- values read in full, keys pinned, algorithms

  @Test
  void aCommentInTheNameId_cannotTruncateIt() {
    // The IdP signed the NameID "alice@corp.example.evil.net"; the attacker adds a comment, which exclusive c14n
    // ignores, so the signature still verifies. A parser that reads the first text node would see
    // "alice@corp.example"; airlock reads the whole element.
    Document doc = signedAssertion(r -> r.nameId = "alice@corp.example.evil.net");
    Element nameId = (Element) doc.getElementsByTagNameNS(SAML, "NameID").item(0);
    nameId.setTextContent("");
    nameId.appendChild(doc.createTextNode("alice@corp.example"));
    Comment c = doc.createComment("x");
    nameId.appendChild(c);
    nameId.appendChild(doc.createTextNode(".evil.net"));
    Identity id = complete(doc);
    assertThat(id.username()).isEqualTo("alice@corp.example.evil.net");
  }

  @Test
  void aSignatureByAKeyCarriedInKeyInfo_isRefused() {
    Pki.Issued attacker = Pki.selfSignedRsa("attacker");
    Document doc = response().document();
    TestSamlIdp.sign(assertion(doc), attacker.key(), attacker.certificate(), SHA256_RSA, SHA256, true);
    refused(() -> complete(doc), SamlServiceProvider.SIGNATURE);
  }

  @Test
  void sha1_md5AndHmac_areRefused() {
    Document sha1 = response().document();
    TestSamlIdp.sign(assertion(sha1), idp.signing.key(), null, "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
        "http://www.w3.org/2000/09/xmldsig#sha1", false);
    refused(() -> complete(sha1), SamlServiceProvider.ALGORITHM);

    Document sha1Digest = response().document();
    TestSamlIdp.sign(assertion(sha1Digest), idp.signing.key(), null, SHA256_RSA,
        "http://www.w3.org/2000/09/xmldsig#sha1", false);
    refused(() -> complete(sha1Digest), SamlServiceProvider.ALGORITHM);

    Document md5 = signedAssertion(r -> { });
    setAlgorithm(md5, "SignatureMethod", "http://www.w3.org/2001/04/xmldsig-more#rsa-md5");
    refused(() -> complete(md5), SamlServiceProvider.ALGORITHM);

    Document hmac = response().document();
    TestSamlIdp.sign(assertion(hmac), new javax.crypto.spec.SecretKeySpec(idp.signing.certificate().getPublicKey()
        .getEncoded(), "HmacSHA256"), null, "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256", SHA256, false);
    refused(() -> complete(hmac), SamlServiceProvider.ALGORITHM);
  }

  private static void setAlgorithm(Document doc, String element, String uri) {
    ((Element) doc.getElementsByTagNameNS(SamlServiceProvider.DS, element).item(0)).setAttribute("Algorithm", uri);
  }

  @Test
  void aDtd_anExternalEntity_andAnXsltTransform_areRefused() {
    String xml = dev.airlock.sso.saml.SecureXml.toString(signedAssertion(r -> { }));
    refused(() -> sp.complete(encode("<!DOCTYPE r [<!ENTITY e \"alice\">]>" + xml), pending, URI.create(ACS)),
        SamlServiceProvider.XML);
    refused(() -> sp.complete(encode("<!DOCTYPE r [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>"
        + xml.replace(">alice<", ">&e;<")), pending, URI.create(ACS)), SamlServiceProvider.XML);
    String billionLaughs = "<!DOCTYPE r [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]>";
    refused(() -> sp.complete(encode(billionLaughs + xml.replace(">alice<", ">&b;<")), pending, URI.create(ACS)),
        SamlServiceProvider.XML);

    Document xslt = response().document();
    Element transform = xslt.createElementNS(SamlServiceProvider.DS, "ds:Transform");
    transform.setAttribute("Algorithm", "http://www.w3.org/TR/1999/REC-xslt-19991116");
    Element sheet = xslt.createElementNS("http://www.w3.org/1999/XSL/Transform", "xsl:stylesheet");
    sheet.setAttribute("version", "1.0");
    transform.appendChild(sheet);
    Document signed = signedAssertion(r -> { });
    Element transforms = (Element) signed.getElementsByTagNameNS(SamlServiceProvider.DS, "Transforms").item(0);
    transforms.appendChild(signed.importNode(transform, true));
    refused(() -> complete(signed), SamlServiceProvider.ALGORITHM);
  }

  // ---- who, for whom, where

  @Test
  void wrongIssuer_ofTheAssertionOrTheResponse_isRefused() {
    refused(() -> complete(signedAssertion(r -> r.assertionIssuer = "https://evil.example")),
        SamlServiceProvider.ISSUER);
    refused(() -> complete(signedAssertion(r -> r.responseIssuer = "https://evil.example")),
        SamlServiceProvider.ISSUER);
  }

  @Test
  void wrongAudience_isRefused() {
    refused(() -> complete(signedAssertion(r -> r.audience = "another-sp")), SamlServiceProvider.AUDIENCE);
  }

  @Test
  void wrongDestination_isRefused() {
    refused(() -> complete(signedAssertion(r -> r.destination = "https://evil.example/acs")),
        SamlServiceProvider.DESTINATION);
  }

  @Test
  void wrongRecipient_isRefused() {
    refused(() -> complete(signedAssertion(r -> r.recipient = "https://evil.example/acs")),
        SamlServiceProvider.RECIPIENT);
  }

  @Test
  void aNonBearerConfirmation_andAFailedStatus_areRefused() {
    refused(() -> complete(signedAssertion(r -> r.method = "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key")),
        SamlServiceProvider.SUBJECT_CONFIRMATION);
    refused(() -> complete(signedAssertion(r -> r.status = "urn:oasis:names:tc:SAML:2.0:status:Responder")),
        SamlServiceProvider.STATUS);
  }

  // ---- time, to the second (skew 60 s)

  @Test
  void expiry_isCheckedToTheSecond() {
    java.time.Instant now = clock.instant();
    assertThat(complete(signedAssertion(r -> r.notOnOrAfter = now.minusSeconds(59))).username()).isEqualTo("alice");
    pending = sp.begin(URI.create(ACS), null).pending();
    refused(() -> complete(signedAssertion(r -> r.notOnOrAfter = now.minusSeconds(60))), SamlServiceProvider.EXPIRED);
    refused(() -> complete(signedAssertion(r -> r.confirmationNotOnOrAfter = now.minusSeconds(60))),
        SamlServiceProvider.EXPIRED);
  }

  @Test
  void notYetValid_isCheckedToTheSecond() {
    java.time.Instant now = clock.instant();
    assertThat(complete(signedAssertion(r -> r.notBefore = now.plusSeconds(60))).username()).isEqualTo("alice");
    pending = sp.begin(URI.create(ACS), null).pending();
    refused(() -> complete(signedAssertion(r -> r.notBefore = now.plusSeconds(61))), SamlServiceProvider.NOT_BEFORE);
  }

  // ---- InResponseTo and replays

  @Test
  void wrongInResponseTo_isRefused() {
    refused(() -> complete(signedAssertion(r -> {
      r.inResponseTo = "_another-request";
      r.confirmationInResponseTo = "_another-request";
    })), SamlServiceProvider.IN_RESPONSE_TO);
    refused(() -> complete(signedAssertion(r -> r.inResponseTo = "_another-request")),
        SamlServiceProvider.IN_RESPONSE_TO);
  }

  @Test
  void aSecondResponseToTheSameRequest_isRefused() {
    complete(signedAssertion(r -> { }));
    refused(() -> complete(signedAssertion(r -> r.assertionId = "_another-assertion")),
        SamlServiceProvider.IN_RESPONSE_TO);
  }

  @Test
  void aReplayedAssertion_isRefused_evenForANewRequest() {
    Document doc = signedAssertion(r -> r.confirmationInResponseTo = null);
    String encoded = encode(doc);
    sp = sp("allowIdpInitiated: true");
    sp.complete(encode(signedAssertion(r -> {
      r.inResponseTo = null;
      r.confirmationInResponseTo = null;
      r.assertionId = "_fixed";
    })), null, URI.create(ACS));
    refused(() -> sp.complete(encode(signedAssertion(r -> {
      r.inResponseTo = null;
      r.confirmationInResponseTo = null;
      r.assertionId = "_fixed";
    })), null, URI.create(ACS)), SamlServiceProvider.REPLAY);
    assertThat(encoded).isNotEmpty();
  }

  @Test
  void unsolicitedResponses_onlyWhenTheConnectorAllowsThem() {
    Document doc = signedAssertion(r -> {
      r.inResponseTo = null;
      r.confirmationInResponseTo = null;
    });
    refused(() -> sp.complete(encode(doc), null, URI.create(ACS)), SamlServiceProvider.IN_RESPONSE_TO);
    sp = sp("allowIdpInitiated: true");
    assertThat(sp.complete(encode(doc), null, URI.create(ACS)).username()).isEqualTo("alice");
    // An unsolicited response that claims to answer a request is someone else's.
    refused(() -> sp.complete(encode(signedAssertion(r -> r.assertionId = "_x")), null, URI.create(ACS)),
        SamlServiceProvider.IN_RESPONSE_TO);
  }

  @Test
  void aLoginOlderThanTenMinutes_isRefused() {
    Document doc = signedAssertion(r -> r.notOnOrAfter = clock.instant().plusSeconds(3600));
    clock.advance(SamlServiceProvider.LOGIN_TIMEOUT.plusSeconds(1));
    refused(() -> complete(doc), SamlServiceProvider.IN_RESPONSE_TO);
  }

  // ---- encryption

  @Test
  void encryptedAssertions_signed_pass_unsigned_areRefused() {
    Document signed = signedAssertion(r -> { });
    TestSamlIdp.encrypt(signed, spKeys.certificate());
    assertThat(SecureXml.toString(signed)).contains("EncryptedAssertion").doesNotContain(">alice<");
    assertThat(complete(signed).username()).isEqualTo("alice");

    pending = sp.begin(URI.create(ACS), null).pending();
    Document unsigned = response().document();
    TestSamlIdp.encrypt(unsigned, spKeys.certificate());
    idp.sign(unsigned.getDocumentElement());
    refused(() -> complete(unsigned), SamlServiceProvider.UNSIGNED);
  }

  @Test
  void anAssertionEncryptedForAnotherKey_isRefused() {
    Document doc = signedAssertion(r -> { });
    TestSamlIdp.encrypt(doc, Pki.selfSignedRsa("someone else").certificate());
    refused(() -> complete(doc), SamlServiceProvider.DECRYPTION);
  }

  @Test
  void entraIdsGroupsLink_insteadOfTheGroups_isRefusedAsOverage() {
    refused(() -> complete(signedAssertion(r -> {
      r.groupsName = SamlServiceProvider.ENTRA_GROUPS_LINK;
      r.groups = List.of("https://graph.microsoft.com/v1.0/users/x/memberOf");
    })), SamlServiceProvider.GROUPS_OVERAGE);
  }

  // ---- rotation

  @Test
  void duringAKeyRollover_eitherMetadataCertificateVerifies_noOtherDoes() {
    Pki.Issued next = Pki.selfSignedRsa("idp signing next");
    IdpMetadata both = new IdpMetadata(TestSamlIdp.ENTITY, URI.create("https://idp.corp.example/saml/sso"),
        List.of(idp.signing.certificate(), next.certificate()));
    SamlServiceProvider rolling = new SamlServiceProvider(sp.config(), both, replays, clock, Map.<String, String>of()::get);
    pending = rolling.begin(URI.create(ACS), null).pending();
    Document doc = response().document();
    TestSamlIdp.sign(assertion(doc), next.key(), null, SHA256_RSA, SHA256, false);
    assertThat(rolling.complete(encode(doc), pending, URI.create(ACS)).username()).isEqualTo("alice");
    pending = sp.begin(URI.create(ACS), null).pending();
    Document old = response().document();
    TestSamlIdp.sign(assertion(old), next.key(), null, SHA256_RSA, SHA256, false);
    refused(() -> complete(old), SamlServiceProvider.SIGNATURE);
  }
}
