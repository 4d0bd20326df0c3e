package dev.airlock.sso.saml;

import static dev.airlock.sso.saml.SamlServiceProvider.DS;
import static dev.airlock.sso.saml.SamlServiceProvider.SAML;

import dev.airlock.testing.Pki;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import org.apache.xml.security.c14n.Canonicalizer;
import org.apache.xml.security.encryption.EncryptedData;
import org.apache.xml.security.encryption.EncryptedKey;
import org.apache.xml.security.encryption.XMLCipher;
import org.apache.xml.security.keys.KeyInfo;
import org.apache.xml.security.signature.XMLSignature;
import org.apache.xml.security.transforms.Transforms;
import org.w3c.dom.Document;
import org.w3c.dom.Element;

/**
 * Writes SAML responses as an IdP would — and as an attacker would: every field can be set, and the test signs,
 * re-signs, encrypts and rearranges the DOM itself. Keys are the test's own.
 */
public final class TestSamlIdp {

  static final String ENTITY = "https://idp.corp.example/saml";
  static final String SHA256_RSA = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
  static final String SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256";

  static {
    org.apache.xml.security.Init.init();
  }

  public final Pki.Issued signing = Pki.selfSignedRsa("idp signing");
  final Clock clock;

  public TestSamlIdp(Clock clock) {
    this.clock = clock;
  }

  public IdpMetadata metadata() {
    return new IdpMetadata(ENTITY, java.net.URI.create("https://idp.corp.example/saml/sso"),
        List.of(signing.certificate()));
  }

  /** The fields of one response; the defaults are an honest answer to {@code inResponseTo}. */
  public final class Response {
    String responseId = "_resp-" + Long.toHexString(System.nanoTime());
    public String assertionId = "_assert-" + Long.toHexString(System.nanoTime());
    String destination;
    String recipient;
    String audience;
    String responseIssuer = ENTITY;
    String assertionIssuer = ENTITY;
    String inResponseTo;
    String confirmationInResponseTo;
    String status = "urn:oasis:names:tc:SAML:2.0:status:Success";
    String method = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
    String nameId = "alice";
    Instant notBefore;
    Instant notOnOrAfter;
    Instant confirmationNotOnOrAfter;
    List<String> groups = List.of("devs", "all-staff");
    String email = "alice@corp.example";
    String groupsName = "groups";

    public Response(String acs, String audience, String requestId) {
      Instant now = clock.instant();
      this.destination = acs;
      this.recipient = acs;
      this.audience = audience;
      this.inResponseTo = requestId;
      this.confirmationInResponseTo = requestId;
      this.notBefore = now.minusSeconds(30);
      this.notOnOrAfter = now.plusSeconds(300);
      this.confirmationNotOnOrAfter = now.plusSeconds(300);
    }

    public Document document() {
      Instant now = clock.instant();
      StringBuilder attrs = new StringBuilder("<saml:Attribute Name=\"" + groupsName + "\">");
      groups.forEach(g -> attrs.append("<saml:AttributeValue>").append(g).append("</saml:AttributeValue>"));
      attrs.append("</saml:Attribute><saml:Attribute Name=\"email\"><saml:AttributeValue>").append(email)
          .append("</saml:AttributeValue></saml:Attribute>");
      String xml = "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" xmlns:saml=\"" + SAML
          + "\" ID=\"" + responseId + "\" Version=\"2.0\" IssueInstant=\"" + now + "\""
          + attr("Destination", destination) + attr("InResponseTo", inResponseTo) + ">"
          + "<saml:Issuer>" + responseIssuer + "</saml:Issuer>"
          + "<samlp:Status><samlp:StatusCode Value=\"" + status + "\"/></samlp:Status>"
          + "<saml:Assertion ID=\"" + assertionId + "\" Version=\"2.0\" IssueInstant=\"" + now + "\">"
          + "<saml:Issuer>" + assertionIssuer + "</saml:Issuer>"
          + "<saml:Subject><saml:NameID>" + nameId + "</saml:NameID>"
          + "<saml:SubjectConfirmation Method=\"" + method + "\"><saml:SubjectConfirmationData"
          + attr("InResponseTo", confirmationInResponseTo) + attr("NotOnOrAfter", confirmationNotOnOrAfter)
          + attr("Recipient", recipient) + "/></saml:SubjectConfirmation></saml:Subject>"
          + "<saml:Conditions" + attr("NotBefore", notBefore) + attr("NotOnOrAfter", notOnOrAfter) + ">"
          + "<saml:AudienceRestriction><saml:Audience>" + audience + "</saml:Audience></saml:AudienceRestriction>"
          + "</saml:Conditions>"
          + "<saml:AuthnStatement AuthnInstant=\"" + now + "\" SessionIndex=\"s-1\"/>"
          + "<saml:AttributeStatement>" + attrs + "</saml:AttributeStatement>"
          + "</saml:Assertion></samlp:Response>";
      try {
        return SecureXml.parse(xml.getBytes(StandardCharsets.UTF_8));
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  private static String attr(String name, Object value) {
    return value == null ? "" : " " + name + "=\"" + value + "\"";
  }

  public static Element assertion(Document doc) {
    return (Element) doc.getElementsByTagNameNS(SAML, "Assertion").item(0);
  }

  /** Signs {@code el} (enveloped, exclusive c14n) with the IdP's key, the signature placed after its Issuer. */
  public void sign(Element el) {
    sign(el, signing.key(), signing.certificate(), SHA256_RSA, SHA256, false);
  }

  static void sign(Element el, java.security.Key key, X509Certificate cert, String signatureMethod, String digest,
      boolean keyInfo) {
    sign(el, key, cert, signatureMethod, digest, keyInfo, null);
  }

  /** Signs {@code el}; {@code extraTransform} is added to the reference's transforms (e.g. XSLT), or null. */
  static void sign(Element el, java.security.Key key, X509Certificate cert, String signatureMethod, String digest,
      boolean keyInfo, Element extraTransform) {
    try {
      Document doc = el.getOwnerDocument();
      XMLSignature sig = new XMLSignature(doc, "", signatureMethod, Canonicalizer.ALGO_ID_C14N_EXCL_OMIT_COMMENTS);
      Element issuer = SamlServiceProvider.child(el, SAML, "Issuer");
      el.insertBefore(sig.getElement(), issuer == null ? el.getFirstChild() : issuer.getNextSibling());
      Transforms t = new Transforms(doc);
      t.addTransform(Transforms.TRANSFORM_ENVELOPED_SIGNATURE);
      t.addTransform(Transforms.TRANSFORM_C14N_EXCL_OMIT_COMMENTS);
      if (extraTransform != null) {
        t.getElement().appendChild(extraTransform);
      }
      el.setIdAttributeNS(null, "ID", true);
      sig.addDocument("#" + el.getAttribute("ID"), t, digest);
      if (keyInfo) {
        sig.addKeyInfo(cert);
      }
      sig.sign(key);
    } catch (Exception e) {
      throw new IllegalStateException("cannot sign: " + e.getMessage(), e);
    }
  }

  /** Replaces the assertion with an EncryptedAssertion for {@code to} (AES-128-GCM, key by RSA-OAEP). */
  static void encrypt(Document doc, X509Certificate to) {
    try {
      Element assertion = assertion(doc);
      KeyGenerator kg = KeyGenerator.getInstance("AES");
      kg.init(128);
      SecretKey aes = kg.generateKey();
      XMLCipher wrap = XMLCipher.getInstance(XMLCipher.RSA_OAEP);
      wrap.init(XMLCipher.WRAP_MODE, to.getPublicKey());
      EncryptedKey ek = wrap.encryptKey(doc, aes);
      XMLCipher cipher = XMLCipher.getInstance(XMLCipher.AES_128_GCM);
      cipher.init(XMLCipher.ENCRYPT_MODE, aes);
      EncryptedData data = cipher.getEncryptedData();
      KeyInfo ki = new KeyInfo(doc);
      ki.add(ek);
      data.setKeyInfo(ki);
      Element wrapper = doc.createElementNS(SAML, "saml:EncryptedAssertion");
      assertion.getParentNode().replaceChild(wrapper, assertion);
      wrapper.appendChild(assertion);
      cipher.doFinal(doc, assertion, false);
    } catch (Exception e) {
      throw new IllegalStateException("cannot encrypt: " + e.getMessage(), e);
    }
  }

  public static String encode(Document doc) {
    return Base64.getEncoder().encodeToString(SecureXml.toString(doc).getBytes(StandardCharsets.UTF_8));
  }

  static String encode(String xml) {
    return Base64.getEncoder().encodeToString(xml.getBytes(StandardCharsets.UTF_8));
  }

  static Element signature(Element of) {
    return SamlServiceProvider.child(of, DS, "Signature");
  }
}
