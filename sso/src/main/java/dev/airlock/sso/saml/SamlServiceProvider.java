package dev.airlock.sso.saml;

import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.sso.Identity;
import dev.airlock.sso.LoginRefused;
import dev.airlock.sso.ReplayCache;
import dev.airlock.sso.SsoConfig;
import dev.airlock.sso.oidc.Keys;
import dev.airlock.text.Glob;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.Key;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import org.apache.xml.security.encryption.EncryptedKey;
import org.apache.xml.security.encryption.XMLCipher;
import org.apache.xml.security.signature.Reference;
import org.apache.xml.security.signature.SignedInfo;
import org.apache.xml.security.signature.XMLSignature;
import org.apache.xml.security.transforms.Transforms;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * A SAML 2.0 service provider for one connector: SP-initiated login (AuthnRequest by HTTP-Redirect, Response by
 * HTTP-POST), built on Apache Santuario with secure validation and a parser that refuses DTDs (ADR 12).
 *
 * <p>The order is what defeats signature wrapping: every {@code ID} in the document is registered and must be unique;
 * a signature counts only when it is the direct child of the element its one reference names, by that element's own
 * id; it must verify with a certificate from the IdP's metadata (never a key the response carries); there must be
 * exactly one assertion in the whole document, a direct child of the response; and every value — issuer, subject,
 * conditions, attributes — is read from that element and nowhere else.
 */
public final class SamlServiceProvider {

  public static final String SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol";
  public static final String SAML = "urn:oasis:names:tc:SAML:2.0:assertion";
  public static final String DS = "http://www.w3.org/2000/09/xmldsig#";
  public static final String XENC = "http://www.w3.org/2001/04/xmlenc#";
  static final String BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
  static final String SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success";

  /** Check names, as {@link LoginRefused} reports them. */
  public static final String XML = "xml";
  public static final String DUPLICATE_ID = "duplicate-id";
  public static final String STATUS = "status";
  public static final String ASSERTION_COUNT = "assertion-count";
  public static final String SIGNATURE = "signature";
  public static final String ALGORITHM = "algorithm";
  public static final String UNSIGNED = "unsigned";
  public static final String ISSUER = "issuer";
  public static final String DESTINATION = "destination";
  public static final String RECIPIENT = "recipient";
  public static final String AUDIENCE = "audience";
  public static final String NOT_BEFORE = "not-before";
  public static final String EXPIRED = "expired";
  public static final String SUBJECT_CONFIRMATION = "subject-confirmation";
  public static final String IN_RESPONSE_TO = "in-response-to";
  public static final String REPLAY = "replay";
  public static final String DECRYPTION = "decryption";
  public static final String CONNECTOR = "connector";
  public static final String GROUPS_OVERAGE = "groups-overage";
  /** Entra ID's pointer to Microsoft Graph when a user has more than 150 groups for a SAML token. */
  static final String ENTRA_GROUPS_LINK = "http://schemas.microsoft.com/claims/groups.link";

  static final Set<String> SIGNATURE_METHODS = Set.of(
      "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
      "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512", "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
      "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384", "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512",
      "http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1");
  static final Set<String> DIGEST_METHODS = Set.of("http://www.w3.org/2001/04/xmlenc#sha256",
      "http://www.w3.org/2001/04/xmldsig-more#sha384", "http://www.w3.org/2001/04/xmlenc#sha512");
  static final Set<String> TRANSFORMS = Set.of(Transforms.TRANSFORM_ENVELOPED_SIGNATURE,
      Transforms.TRANSFORM_C14N_EXCL_OMIT_COMMENTS, Transforms.TRANSFORM_C14N_EXCL_WITH_COMMENTS,
      Transforms.TRANSFORM_C14N_OMIT_COMMENTS, Transforms.TRANSFORM_C14N11_OMIT_COMMENTS);
  private static final int MAX_RESPONSE = 1 << 20;
  /** How long a started login may take until the response. */
  public static final Duration LOGIN_TIMEOUT = Duration.ofMinutes(10);
  private static final SecureRandom RANDOM = new SecureRandom();

  static {
    org.apache.xml.security.Init.init();
  }

  private final SsoConfig.Saml config;
  private final IdpMetadata idp;
  private final ReplayCache replays;
  private final Clock clock;
  private final Function<String, String> environment;

  public SamlServiceProvider(SsoConfig.Saml config, IdpMetadata idp, ReplayCache replays, Clock clock) {
    this(config, idp, replays, clock, System::getenv);
  }

  public SamlServiceProvider(SsoConfig.Saml config, IdpMetadata idp, ReplayCache replays, Clock clock,
      Function<String, String> environment) {
    this.config = config;
    this.idp = idp;
    this.replays = replays;
    this.clock = clock;
    this.environment = environment;
  }

  public SsoConfig.Saml config() {
    return config;
  }

  /** What the login in progress must remember until the response arrives. */
  public record Pending(String connector, String requestId, URI acsUrl, Instant started) {}

  /** Where to send the browser (the IdP, with the AuthnRequest), and what to remember. */
  public record Start(URI redirectUrl, Pending pending) {}

  /** Starts a login: an AuthnRequest to the IdP by HTTP-Redirect, asking for the response at {@code acsUrl}. */
  public Start begin(URI acsUrl, String relayState) {
    byte[] idBytes = new byte[20];
    RANDOM.nextBytes(idBytes);
    String id = "_" + HexFormat.of().formatHex(idBytes);
    String xml = "<samlp:AuthnRequest xmlns:samlp=\"" + SAMLP + "\" xmlns:saml=\"" + SAML + "\" ID=\"" + id
        + "\" Version=\"2.0\" IssueInstant=\"" + clock.instant().truncatedTo(java.time.temporal.ChronoUnit.SECONDS)
        + "\" Destination=\"" + escape(idp.singleSignOnUrl().toString()) + "\" AssertionConsumerServiceURL=\""
        + escape(acsUrl.toString()) + "\" ProtocolBinding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\">"
        + "<saml:Issuer>" + escape(config.entityId()) + "</saml:Issuer>"
        + "<samlp:NameIDPolicy Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified\" AllowCreate=\"true\"/>"
        + "</samlp:AuthnRequest>";
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DeflaterOutputStream out = new DeflaterOutputStream(bytes, new Deflater(Deflater.DEFAULT_COMPRESSION,
        true))) {
      out.write(xml.getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    String query = "SAMLRequest=" + URLEncoder.encode(Base64.getEncoder().encodeToString(bytes.toByteArray()),
        StandardCharsets.UTF_8) + (relayState == null ? "" : "&RelayState=" + URLEncoder.encode(relayState,
        StandardCharsets.UTF_8));
    String sso = idp.singleSignOnUrl().toString();
    return new Start(URI.create(sso + (sso.contains("?") ? "&" : "?") + query), new Pending(config.name(), id, acsUrl,
        clock.instant()));
  }

  /**
   * Checks a response that arrived by HTTP-POST ({@code SAMLResponse}, base64) and returns who logged in.
   *
   * @param pending the login this browser started; null for an IdP-initiated response, accepted only when the
   *     connector allows it
   * @param acsUrl where the response was posted to (for an IdP-initiated one; else the pending one's)
   */
  public Identity complete(String samlResponse, Pending pending, URI acsUrl) {
    String n = config.name();
    if (pending != null && !pending.connector().equals(n)) {
      throw LoginRefused.because(n, CONNECTOR, "the login was started with connector " + pending.connector(),
          "start the login again");
    }
    URI acs = pending != null ? pending.acsUrl() : acsUrl;
    if (pending != null && pending.started().plus(LOGIN_TIMEOUT).isBefore(clock.instant())) {
      throw LoginRefused.because(n, IN_RESPONSE_TO, "the login was started at " + pending.started() + ", more than "
          + LOGIN_TIMEOUT.toMinutes() + " minutes ago", "start the login again");
    }
    Document doc = parse(samlResponse);
    Element response = doc.getDocumentElement();
    if (!SAMLP.equals(response.getNamespaceURI()) || !"Response".equals(response.getLocalName())) {
      throw LoginRefused.because(n, XML, "the document is a " + response.getLocalName() + ", not a SAML Response",
          "check the IdP's binding for this client");
    }
    registerIds(doc);
    checkStatus(response);

    Element responseSignature = child(response, DS, "Signature");
    boolean responseSigned = responseSignature != null && verify(response, responseSignature);
    String destination = response.getAttribute("Destination");
    if (!destination.isEmpty() && !destination.equals(acs.toString())) {
      throw LoginRefused.because(n, DESTINATION, "the response is addressed to " + destination + ", not to "
          + acs, "set the client's assertion consumer URL in the IdP to " + acs);
    }
    Element responseIssuer = child(response, SAML, "Issuer");
    if (responseIssuer != null && !idp.entityId().equals(responseIssuer.getTextContent().strip())) {
      throw LoginRefused.because(n, ISSUER, "the response's issuer is '" + responseIssuer.getTextContent().strip()
          + "', not the IdP's '" + idp.entityId() + "'", "check the connector's idpMetadata");
    }
    String responseInResponseTo = response.getAttribute("InResponseTo");

    boolean encrypted = false;
    Element encryptedAssertion = child(response, SAML, "EncryptedAssertion");
    if (encryptedAssertion != null) {
      decrypt(doc, encryptedAssertion);
      encrypted = true;
      registerIds(doc);
    }
    Element assertion = onlyAssertion(doc, response, encrypted ? encryptedAssertion : response);
    Element assertionSignature = child(assertion, DS, "Signature");
    boolean assertionSigned = assertionSignature != null && verify(assertion, assertionSignature);
    if (!assertionSigned) {
      if (encrypted) {
        throw LoginRefused.because(n, UNSIGNED, "the encrypted assertion is not signed itself (encryption proves "
            + "nothing about who wrote it)", "have the IdP sign assertions as well as encrypt them");
      }
      if (!responseSigned) {
        throw LoginRefused.because(n, UNSIGNED, "neither the response nor the assertion is signed",
            "have the IdP sign assertions");
      }
      if (config.wantAssertionsSigned()) {
        throw LoginRefused.because(n, UNSIGNED, "the assertion is not signed (only the response is), and the "
            + "connector wants signed assertions", "have the IdP sign assertions, or set wantAssertionsSigned: false");
      }
    }
    return identity(assertion, pending, acs, responseInResponseTo);
  }

  private Document parse(String samlResponse) {
    String n = config.name();
    byte[] xml;
    try {
      xml = Base64.getMimeDecoder().decode(samlResponse == null ? "" : samlResponse.strip());
    } catch (IllegalArgumentException e) {
      throw LoginRefused.because(n, XML, "SAMLResponse is not base64", "check the IdP's binding (HTTP-POST)", e);
    }
    if (xml.length == 0 || xml.length > MAX_RESPONSE) {
      throw LoginRefused.because(n, XML, "SAMLResponse is " + xml.length + " bytes", "check the IdP");
    }
    try {
      return SecureXml.parse(xml);
    } catch (IOException e) {
      throw LoginRefused.because(n, XML, "the response is not acceptable XML (DTDs and entities are refused)",
          "check the IdP", e);
    }
  }

  /** Registers every {@code ID} attribute as an XML id, refusing any value used twice. */
  private void registerIds(Document doc) {
    Set<String> seen = new HashSet<>();
    NodeList all = doc.getElementsByTagNameNS("*", "*");
    for (int i = 0; i < all.getLength(); i++) {
      Element e = (Element) all.item(i);
      if (e.hasAttributeNS(null, "ID")) {
        String id = e.getAttributeNS(null, "ID");
        if (!seen.add(id)) {
          throw LoginRefused.because(config.name(), DUPLICATE_ID, "the id '" + id + "' appears twice in the response "
              + "(a signature-wrapping attempt)", "the response was tampered with; start the login again");
        }
        e.setIdAttributeNS(null, "ID", true);
      }
    }
  }

  private void checkStatus(Element response) {
    Element status = child(response, SAMLP, "Status");
    Element code = status == null ? null : child(status, SAMLP, "StatusCode");
    String value = code == null ? "(none)" : code.getAttribute("Value");
    if (!SUCCESS.equals(value)) {
      Element message = status == null ? null : child(status, SAMLP, "StatusMessage");
      throw LoginRefused.because(config.name(), STATUS, "the IdP answered " + value + (message == null ? ""
          : " (" + message.getTextContent().strip() + ")"), "see the IdP's log for this user and client");
    }
  }

  /** The one Assertion of the document, which must be a direct child of {@code parent}. */
  private Element onlyAssertion(Document doc, Element response, Element parent) {
    NodeList assertions = doc.getElementsByTagNameNS(SAML, "Assertion");
    NodeList encrypted = doc.getElementsByTagNameNS(SAML, "EncryptedAssertion");
    int count = assertions.getLength() + encrypted.getLength() - (parent == response ? 0 : 1);
    if (count != 1 || assertions.getLength() != 1) {
      throw LoginRefused.because(config.name(), ASSERTION_COUNT, "the response holds " + count + " assertions, "
          + "not exactly one", "the response was tampered with, or the IdP sends several assertions (unsupported)");
    }
    Element a = (Element) assertions.item(0);
    if (!a.getParentNode().isSameNode(parent)) {
      throw LoginRefused.because(config.name(), ASSERTION_COUNT, "the assertion sits inside "
          + a.getParentNode().getLocalName() + ", not directly in the response", "the response was tampered with");
    }
    return a;
  }

  /**
   * Verifies {@code signature}, the direct child of {@code signed}: one reference, to {@code signed}'s own id,
   * allowed algorithms and transforms only, and a signature value by one of the IdP's metadata certificates.
   */
  private boolean verify(Element signed, Element signature) {
    String n = config.name();
    String id = signed.getAttributeNS(null, "ID");
    checkAlgorithms(signature);
    try {
      XMLSignature sig = new XMLSignature(signature, "", true);
      SignedInfo si = sig.getSignedInfo();
      if (si.getLength() != 1) {
        throw LoginRefused.because(n, SIGNATURE, "the signature covers " + si.getLength() + " references, not one",
            "the response was tampered with");
      }
      Reference ref = si.item(0);
      if (id.isEmpty() || !("#" + id).equals(ref.getURI())) {
        throw LoginRefused.because(n, SIGNATURE, "the signature in " + signed.getLocalName() + " covers '"
            + ref.getURI() + "', not the " + signed.getLocalName() + " itself ('#" + id + "')",
            "the response was tampered with (signature wrapping)");
      }
      if (!signed.isSameNode(signed.getOwnerDocument().getElementById(id))) {
        throw LoginRefused.because(n, SIGNATURE, "the id '" + id + "' does not lead to the signed element",
            "the response was tampered with");
      }
      // Algorithms and transforms were checked on the DOM before Santuario saw them (checkAlgorithms).
      for (X509Certificate cert : idp.signingCertificates()) {
        if (sig.checkSignatureValue(cert)) {
          return true;
        }
      }
      throw LoginRefused.because(n, SIGNATURE, "the " + signed.getLocalName() + " is not signed by the IdP's "
          + "metadata certificate" + (idp.signingCertificates().size() > 1 ? "s" : "") + " (a key carried in the "
          + "response is never trusted)", "refresh idpMetadata if the IdP rotated its signing key");
    } catch (AirlockException e) {
      throw e;
    } catch (Exception e) {
      throw LoginRefused.because(n, SIGNATURE, "the signature of the " + signed.getLocalName() + " cannot be "
          + "checked: " + e.getMessage(), "the response was tampered with, or the IdP signs in a way airlock "
          + "refuses", e);
    }
  }

  /**
   * Refuses weak or dangerous algorithms by reading them from the DOM, before Santuario evaluates anything: the
   * signature method, the canonicalization, each digest and each transform (an XSLT or XPath transform would run
   * the attacker's program).
   */
  private void checkAlgorithms(Element signature) {
    String n = config.name();
    Element signedInfo = child(signature, DS, "SignedInfo");
    if (signedInfo == null) {
      throw LoginRefused.because(n, SIGNATURE, "the signature has no SignedInfo", "the response was tampered with");
    }
    Element c14n = child(signedInfo, DS, "CanonicalizationMethod");
    if (c14n == null || !TRANSFORMS.contains(c14n.getAttribute("Algorithm"))
        || c14n.getAttribute("Algorithm").equals(Transforms.TRANSFORM_ENVELOPED_SIGNATURE)) {
      throw LoginRefused.because(n, ALGORITHM, "the signature canonicalizes with " + (c14n == null ? "nothing"
          : c14n.getAttribute("Algorithm")) + " (allowed: exclusive or inclusive XML canonicalization)",
          "configure the IdP to use exclusive canonicalization");
    }
    Element method = child(signedInfo, DS, "SignatureMethod");
    String alg = method == null ? "nothing" : method.getAttribute("Algorithm");
    if (!SIGNATURE_METHODS.contains(alg)) {
      throw LoginRefused.because(n, ALGORITHM, "the signature uses " + alg + " (allowed: RSA or ECDSA with SHA-256 "
          + "or stronger; never SHA-1, MD5 or HMAC)", "configure the IdP to sign with RSA-SHA256");
    }
    for (Element ref : children(signedInfo, DS, "Reference")) {
      Element digest = child(ref, DS, "DigestMethod");
      String d = digest == null ? "nothing" : digest.getAttribute("Algorithm");
      if (!DIGEST_METHODS.contains(d)) {
        throw LoginRefused.because(n, ALGORITHM, "the signature digests with " + d + " (allowed: SHA-256 or "
            + "stronger)", "configure the IdP to sign with RSA-SHA256");
      }
      Element transforms = child(ref, DS, "Transforms");
      for (Element t : transforms == null ? List.<Element>of() : children(transforms, DS, "Transform")) {
        if (!TRANSFORMS.contains(t.getAttribute("Algorithm"))) {
          throw LoginRefused.because(n, ALGORITHM, "the signature applies transform " + t.getAttribute("Algorithm")
              + " (allowed: enveloped signature and canonicalization only)", "the response was tampered with");
        }
      }
    }
  }

  private void decrypt(Document doc, Element encryptedAssertion) {
    String n = config.name();
    if (config.spKey() == null) {
      throw LoginRefused.because(n, DECRYPTION, "the assertion is encrypted and the connector has no spKey",
          "set spKey and spCertificate, and give the IdP that certificate");
    }
    PrivateKey key = Keys.privateKey(config.spKey().resolve(environment), "connector " + n);
    try {
      Element data = child(encryptedAssertion, XENC, "EncryptedData");
      if (data == null) {
        throw LoginRefused.because(n, DECRYPTION, "EncryptedAssertion holds no EncryptedData", "check the IdP");
      }
      Element encKey = first(data, XENC, "EncryptedKey");
      if (encKey == null) {
        encKey = child(encryptedAssertion, XENC, "EncryptedKey");
      }
      if (encKey == null) {
        throw LoginRefused.because(n, DECRYPTION, "the encrypted assertion carries no EncryptedKey", "check the IdP");
      }
      Element method = child(data, XENC, "EncryptionMethod");
      String algorithm = method == null ? null : method.getAttribute("Algorithm");
      XMLCipher unwrap = XMLCipher.getInstance();
      unwrap.init(XMLCipher.UNWRAP_MODE, key);
      unwrap.setSecureValidation(true);
      EncryptedKey ek = unwrap.loadEncryptedKey(doc, encKey);
      Key secret = unwrap.decryptKey(ek, algorithm);
      XMLCipher cipher = XMLCipher.getInstance();
      cipher.init(XMLCipher.DECRYPT_MODE, secret);
      cipher.setSecureValidation(true);
      cipher.doFinal(doc, data);
      Element stray = child(encryptedAssertion, XENC, "EncryptedKey");
      if (stray != null) {
        encryptedAssertion.removeChild(stray);
      }
    } catch (AirlockException e) {
      throw e;
    } catch (Exception e) {
      throw LoginRefused.because(n, DECRYPTION, "the assertion cannot be decrypted with the connector's spKey: "
          + e.getMessage(), "give the IdP the certificate of spKey (spCertificate)", e);
    }
  }

  private Identity identity(Element assertion, Pending pending, URI acs, String responseInResponseTo) {
    String n = config.name();
    Instant now = clock.instant();
    Duration skew = config.clockSkew();
    Element issuer = child(assertion, SAML, "Issuer");
    if (issuer == null || !idp.entityId().equals(issuer.getTextContent().strip())) {
      throw LoginRefused.because(n, ISSUER, "the assertion's issuer is " + (issuer == null ? "missing" : "'"
          + issuer.getTextContent().strip() + "'") + ", not the IdP's '" + idp.entityId() + "'",
          "check the connector's idpMetadata");
    }
    Element subject = child(assertion, SAML, "Subject");
    Element nameId = subject == null ? null : child(subject, SAML, "NameID");
    if (nameId == null) {
      throw LoginRefused.because(n, SUBJECT_CONFIRMATION, "the assertion names no subject", "check the IdP");
    }
    boolean confirmed = false;
    String inResponseTo = null;
    for (Element sc : children(subject, SAML, "SubjectConfirmation")) {
      if (!BEARER.equals(sc.getAttribute("Method"))) {
        continue;
      }
      Element data = child(sc, SAML, "SubjectConfirmationData");
      if (data == null) {
        continue;
      }
      if (!acs.toString().equals(data.getAttribute("Recipient"))) {
        throw LoginRefused.because(n, RECIPIENT, "the assertion is for recipient " + data.getAttribute("Recipient")
            + ", not " + acs, "set the client's assertion consumer URL in the IdP to " + acs);
      }
      Instant until = instant(data.getAttribute("NotOnOrAfter"), RECIPIENT);
      if (until == null || !until.plus(skew).isAfter(now)) {
        throw LoginRefused.because(n, EXPIRED, "the subject confirmation expired at " + until + " (now " + now
            + ")", "check the clocks of this machine and the IdP, then start the login again");
      }
      inResponseTo = data.getAttribute("InResponseTo");
      confirmed = true;
    }
    if (!confirmed) {
      throw LoginRefused.because(n, SUBJECT_CONFIRMATION, "the assertion has no bearer subject confirmation",
          "check the IdP");
    }
    checkInResponseTo(pending, inResponseTo, responseInResponseTo);
    Element conditions = child(assertion, SAML, "Conditions");
    if (conditions == null) {
      throw LoginRefused.because(n, AUDIENCE, "the assertion has no conditions (no audience)", "check the IdP");
    }
    Instant notBefore = instant(conditions.getAttribute("NotBefore"), NOT_BEFORE);
    if (notBefore != null && notBefore.minus(skew).isAfter(now)) {
      throw LoginRefused.because(n, NOT_BEFORE, "the assertion is not valid before " + notBefore + " (now " + now
          + ")", "check the clocks of this machine and the IdP (NTP)");
    }
    Instant notOnOrAfter = instant(conditions.getAttribute("NotOnOrAfter"), EXPIRED);
    if (notOnOrAfter != null && !notOnOrAfter.plus(skew).isAfter(now)) {
      throw LoginRefused.because(n, EXPIRED, "the assertion expired at " + notOnOrAfter + " (now " + now + ")",
          "check the clocks, then start the login again");
    }
    List<Element> restrictions = children(conditions, SAML, "AudienceRestriction");
    if (restrictions.isEmpty()) {
      throw LoginRefused.because(n, AUDIENCE, "the assertion has no audience restriction", "check the IdP");
    }
    for (Element r : restrictions) {
      if (children(r, SAML, "Audience").stream().noneMatch(a -> a.getTextContent().strip().equals(
          config.entityId()))) {
        throw LoginRefused.because(n, AUDIENCE, "the assertion's audience is " + children(r, SAML, "Audience")
            .stream().map(a -> "'" + a.getTextContent().strip() + "'").toList() + ", not '" + config.entityId()
            + "'", "set the client id in the IdP to the connector's entityId");
      }
    }
    String assertionId = assertion.getAttributeNS(null, "ID");
    Instant keep = notOnOrAfter != null ? notOnOrAfter.plus(skew) : now.plus(Duration.ofHours(1));
    if (!replays.firstUse("saml-assertion:" + idp.entityId() + ":" + assertionId, keep, now)) {
      throw LoginRefused.because(n, REPLAY, "assertion " + assertionId + " was already used", "start the login again");
    }
    if (pending != null && !replays.firstUse("saml-request:" + n + ":" + pending.requestId(), pending.started()
        .plus(LOGIN_TIMEOUT), now)) {
      throw LoginRefused.because(n, IN_RESPONSE_TO, "request " + pending.requestId() + " was already answered (a "
          + "replayed response)", "start the login again");
    }
    // Values: from this assertion only; text content in full (a comment cannot cut a NameID short).
    String name = nameId.getTextContent().strip();
    List<String> groups = new ArrayList<>();
    String email = null;
    String display = null;
    String username = config.usernameAttribute() == null ? name : null;
    java.util.Map<String, List<String>> attributes = new java.util.TreeMap<>();
    Element statement = child(assertion, SAML, "AttributeStatement");
    if (statement != null) {
      for (Element attribute : children(statement, SAML, "Attribute")) {
        String attr = attribute.getAttribute("Name");
        if (attr.equals(ENTRA_GROUPS_LINK)) {
          throw LoginRefused.because(n, GROUPS_OVERAGE, "the IdP left the groups out and sent a link to them instead "
              + "(the user is in more than 150 groups in Entra ID)", "emit only the groups assigned to the "
              + "application (Entra ID: attributes and claims, group claim, 'Groups assigned to the application')");
        }
        List<String> values = children(attribute, SAML, "AttributeValue").stream()
            .map(v -> v.getTextContent().strip()).toList();
        attributes.merge(attr, values, (a, b) -> java.util.stream.Stream.concat(a.stream(), b.stream()).toList());
        if (attr.equals(config.groupsAttribute())) {
          groups.addAll(values);
        } else if (attr.equals(config.emailAttribute()) && !values.isEmpty()) {
          email = values.get(0);
        } else if (attr.equals(config.displayNameAttribute()) && !values.isEmpty()) {
          display = values.get(0);
        }
        if (attr.equals(config.usernameAttribute()) && !values.isEmpty()) {
          username = values.get(0);
        }
      }
    }
    if (username == null || username.isBlank()) {
      throw LoginRefused.because(n, SUBJECT_CONFIRMATION, "the assertion has no " + config.usernameAttribute()
          + " attribute for the username", "map that attribute in the IdP, or unset usernameAttribute");
    }
    List<Glob> filter = config.groupFilter().stream().map(Glob::of).toList();
    groups.removeIf(g -> filter.stream().noneMatch(f -> f.matches(g)));
    Instant authenticated = now;
    Instant session = now.plus(config.session());
    Element authn = child(assertion, SAML, "AuthnStatement");
    if (authn != null) {
      Instant instant = instant(authn.getAttribute("AuthnInstant"), EXPIRED);
      authenticated = instant == null ? now : instant;
      Instant sessionEnd = instant(authn.getAttribute("SessionNotOnOrAfter"), EXPIRED);
      if (sessionEnd != null && sessionEnd.isBefore(session)) {
        session = sessionEnd;
      }
    }
    return new Identity(n, name, username, email, display, groups, authenticated, session, attributes);
  }

  private void checkInResponseTo(Pending pending, String confirmation, String response) {
    String n = config.name();
    if (pending == null) {
      if (!config.allowIdpInitiated()) {
        throw LoginRefused.because(n, IN_RESPONSE_TO, "the response answers no login airlock started "
            + "(IdP-initiated), and the connector does not allow that", "start the login from airlock, or set "
            + "allowIdpInitiated: true");
      }
      if (!confirmation.isEmpty() || !response.isEmpty()) {
        throw LoginRefused.because(n, IN_RESPONSE_TO, "the response answers a request this browser did not send",
            "start the login again");
      }
      return;
    }
    if (!pending.requestId().equals(confirmation) || !response.isEmpty() && !pending.requestId().equals(response)) {
      throw LoginRefused.because(n, IN_RESPONSE_TO, "the response answers request '" + (confirmation.isEmpty()
          ? "(none)" : confirmation) + "', not this browser's '" + pending.requestId() + "'",
          "start the login again (a response meant for another login is refused)");
    }
  }

  private Instant instant(String text, String check) {
    if (text == null || text.isEmpty()) {
      return null;
    }
    try {
      return Instant.parse(text);
    } catch (DateTimeParseException e) {
      throw LoginRefused.because(config.name(), check, "'" + text + "' is not a time", "check the IdP");
    }
  }

  /** The SP's metadata for the IdP: entity id, ACS URL (HTTP-POST), and the encryption certificate if any. */
  public String metadata(URI acsUrl) {
    StringBuilder sb = new StringBuilder();
    sb.append("<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" xmlns:ds=\"").append(DS)
        .append("\" entityID=\"").append(escape(config.entityId())).append("\">\n")
        .append("  <md:SPSSODescriptor AuthnRequestsSigned=\"false\" WantAssertionsSigned=\"")
        .append(config.wantAssertionsSigned()).append("\" protocolSupportEnumeration=\"").append(SAMLP)
        .append("\">\n");
    if (config.spCertificate() != null) {
      try (var in = Files.newInputStream(config.spCertificate())) {
        X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        String b64 = Base64.getEncoder().encodeToString(cert.getEncoded());
        for (String use : List.of("signing", "encryption")) {
          sb.append("    <md:KeyDescriptor use=\"").append(use).append("\"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>")
              .append(b64).append("</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>\n");
        }
      } catch (IOException | java.security.cert.CertificateException e) {
        throw new AirlockException(Kind.BAD_INPUT, "spCertificate " + config.spCertificate() + " is not a PEM "
            + "certificate", "check the connector's spCertificate", e);
      }
    }
    sb.append("    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified</md:NameIDFormat>\n")
        .append("    <md:AssertionConsumerService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" Location=\"")
        .append(escape(acsUrl.toString())).append("\" index=\"0\" isDefault=\"true\"/>\n")
        .append("  </md:SPSSODescriptor>\n</md:EntityDescriptor>\n");
    return sb.toString();
  }

  static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }

  static Element child(Element parent, String ns, String local) {
    for (Node c = parent.getFirstChild(); c != null; c = c.getNextSibling()) {
      if (c instanceof Element e && ns.equals(e.getNamespaceURI()) && local.equals(e.getLocalName())) {
        return e;
      }
    }
    return null;
  }

  static List<Element> children(Element parent, String ns, String local) {
    List<Element> out = new ArrayList<>();
    for (Node c = parent.getFirstChild(); c != null; c = c.getNextSibling()) {
      if (c instanceof Element e && ns.equals(e.getNamespaceURI()) && local.equals(e.getLocalName())) {
        out.add(e);
      }
    }
    return out;
  }

  private static Element first(Element parent, String ns, String local) {
    NodeList l = parent.getElementsByTagNameNS(ns, local);
    return l.getLength() == 0 ? null : (Element) l.item(0);
  }

  static String certificateBase64(X509Certificate c) {
    try {
      return Base64.getEncoder().encodeToString(c.getEncoded());
    } catch (CertificateEncodingException e) {
      throw new IllegalStateException(e);
    }
  }
}
