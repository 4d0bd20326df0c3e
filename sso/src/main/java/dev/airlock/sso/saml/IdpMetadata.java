package dev.airlock.sso.saml;

import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.sso.SsoConfig;
import dev.airlock.sso.oidc.Tls;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * What airlock needs from an IdP's SAML metadata: its entity id, where to send AuthnRequests (HTTP-Redirect), and the
 * certificates it signs with — several during a key rollover. These certificates are the only keys a response may
 * be signed with; keys a response carries in its own KeyInfo are never used.
 */
public record IdpMetadata(String entityId, URI singleSignOnUrl, List<X509Certificate> signingCertificates) {

  /**
   * Set when nothing answered with SAML metadata (no connection, another HTTP status, not an EntityDescriptor): a
   * server tells its users only that, not what answered.
   */
  public static final String NO_METADATA = "no-metadata";
  static final String MD = "urn:oasis:names:tc:SAML:2.0:metadata";
  static final String DS = "http://www.w3.org/2000/09/xmldsig#";
  static final String REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";

  public IdpMetadata {
    signingCertificates = List.copyOf(signingCertificates);
  }

  /** Reads the connector's metadata from its file or URL. */
  public static IdpMetadata load(SsoConfig.Saml config) {
    byte[] xml;
    String source;
    try {
      if (config.idpMetadataFile() != null) {
        source = config.idpMetadataFile().toString();
        xml = Files.readAllBytes(config.idpMetadataFile());
      } else {
        source = config.idpMetadataUrl().toString();
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10));
        if (config.caFile() != null) {
          b.sslContext(Tls.context(config.caFile()));
        }
        HttpResponse<byte[]> r = b.build().send(HttpRequest.newBuilder(config.idpMetadataUrl())
            .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofByteArray());
        if (r.statusCode() != 200) {
          throw new AirlockException(Kind.REMOTE, "the IdP metadata at " + source + " answered HTTP "
              + r.statusCode(), "check idpMetadata.url of connector " + config.name()).with(NO_METADATA, "true");
        }
        xml = r.body();
      }
    } catch (IOException e) {
      throw new AirlockException(Kind.REMOTE, "cannot read the IdP metadata of connector " + config.name() + ": "
          + e.getMessage(), "check idpMetadata (a file path, or a URL reachable from here)", e).with(NO_METADATA, "true");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AirlockException(Kind.REMOTE, "interrupted while reading IdP metadata", null, e);
    }
    return parse(xml, source);
  }

  public static IdpMetadata parse(byte[] xml, String source) {
    Document doc;
    try {
      doc = SecureXml.parse(xml);
    } catch (IOException e) {
      throw new AirlockException(Kind.BAD_INPUT, source + " is not SAML metadata: " + e.getMessage(),
          "export the IdP's SAML metadata (EntityDescriptor) again", e).with(NO_METADATA, "true");
    }
    Element root = doc.getDocumentElement();
    if (!MD.equals(root.getNamespaceURI()) || !"EntityDescriptor".equals(root.getLocalName())) {
      throw new AirlockException(Kind.BAD_INPUT, source + " is not a SAML EntityDescriptor",
          "export the IdP's SAML metadata (EntityDescriptor) again").with(NO_METADATA, "true");
    }
    String entityId = root.getAttribute("entityID");
    NodeList idps = root.getElementsByTagNameNS(MD, "IDPSSODescriptor");
    if (idps.getLength() != 1) {
      throw new AirlockException(Kind.BAD_INPUT, source + " describes " + idps.getLength() + " identity providers, "
          + "not one", "give the metadata of the one IdP");
    }
    Element idp = (Element) idps.item(0);
    URI sso = null;
    NodeList services = idp.getElementsByTagNameNS(MD, "SingleSignOnService");
    for (int i = 0; i < services.getLength(); i++) {
      Element s = (Element) services.item(i);
      if (REDIRECT.equals(s.getAttribute("Binding"))) {
        sso = URI.create(s.getAttribute("Location"));
      }
    }
    if (sso == null) {
      throw new AirlockException(Kind.BAD_INPUT, source + " offers no HTTP-Redirect SingleSignOnService",
          "enable the Redirect binding for SSO in the IdP");
    }
    List<X509Certificate> certs = new ArrayList<>();
    NodeList keys = idp.getElementsByTagNameNS(MD, "KeyDescriptor");
    for (int i = 0; i < keys.getLength(); i++) {
      Element k = (Element) keys.item(i);
      if (!k.getParentNode().isSameNode(idp)) {
        continue;
      }
      String use = k.getAttribute("use");
      if (!use.isEmpty() && !use.equals("signing")) {
        continue;
      }
      NodeList x509 = k.getElementsByTagNameNS(DS, "X509Certificate");
      for (int j = 0; j < x509.getLength(); j++) {
        certs.add(certificate(x509.item(j).getTextContent(), source));
      }
    }
    if (certs.isEmpty()) {
      throw new AirlockException(Kind.BAD_INPUT, source + " names no signing certificate",
          "the IdP must publish the certificate it signs assertions with");
    }
    return new IdpMetadata(entityId, sso, certs);
  }

  static X509Certificate certificate(String base64, String source) {
    try {
      return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(
          Base64.getMimeDecoder().decode(base64.strip())));
    } catch (CertificateException | IllegalArgumentException e) {
      throw new AirlockException(Kind.BAD_INPUT, source + " holds a certificate that cannot be read",
          "export the IdP's metadata again", e);
    }
  }
}
