package dev.airlock.sso.saml;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringWriter;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import javax.xml.transform.OutputKeys;
import javax.xml.transform.TransformerException;
import javax.xml.transform.TransformerFactory;
import javax.xml.transform.dom.DOMSource;
import javax.xml.transform.stream.StreamResult;
import org.w3c.dom.Document;
import org.w3c.dom.Node;
import org.xml.sax.SAXException;

/**
 * The only way SAML XML is parsed here: namespace-aware, no DTD at all (so no entity expansion, external entities
 * or XInclude), secure processing on. A document with a DOCTYPE is refused outright.
 */
public final class SecureXml {

  private SecureXml() {}

  /** One configured factory; builders are not thread-safe, so each thread keeps its own and resets it. */
  private static final DocumentBuilderFactory FACTORY = factory();
  private static final ThreadLocal<DocumentBuilder> BUILDERS = ThreadLocal.withInitial(SecureXml::newBuilder);

  static DocumentBuilder builder() {
    DocumentBuilder b = BUILDERS.get();
    b.reset();
    b.setErrorHandler(null);
    return b;
  }

  private static DocumentBuilder newBuilder() {
    try {
      return FACTORY.newDocumentBuilder();
    } catch (ParserConfigurationException e) {
      throw new IllegalStateException("the JDK's XML parser cannot be configured: " + e.getMessage(), e);
    }
  }

  private static DocumentBuilderFactory factory() {
    try {
      DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
      f.setNamespaceAware(true);
      f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
      f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
      f.setFeature("http://xml.org/sax/features/external-general-entities", false);
      f.setFeature("http://xml.org/sax/features/external-parameter-entities", false);
      f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
      f.setAttribute(XMLConstants.ACCESS_EXTERNAL_DTD, "");
      f.setAttribute(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");
      f.setXIncludeAware(false);
      f.setExpandEntityReferences(false);
      return f;
    } catch (ParserConfigurationException e) {
      throw new IllegalStateException("the JDK's XML parser lacks a security feature: " + e.getMessage(), e);
    }
  }

  /** Parses {@code bytes}; a DTD, an external entity or malformed XML is an {@link IOException}. */
  public static Document parse(byte[] bytes) throws IOException {
    try {
      return builder().parse(new ByteArrayInputStream(bytes));
    } catch (SAXException e) {
      throw new IOException("not acceptable XML: " + e.getMessage(), e);
    }
  }

  public static Document newDocument() {
    return builder().newDocument();
  }

  public static String toString(Node node) {
    try {
      TransformerFactory tf = TransformerFactory.newInstance();
      tf.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
      var t = tf.newTransformer();
      t.setOutputProperty(OutputKeys.OMIT_XML_DECLARATION, "yes");
      StringWriter w = new StringWriter();
      t.transform(new DOMSource(node), new StreamResult(w));
      return w.toString();
    } catch (TransformerException e) {
      throw new IllegalStateException(e);
    }
  }
}
