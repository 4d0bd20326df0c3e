package dev.airlock.bundle.sbom;

import com.github.packageurl.MalformedPackageURLException;
import com.github.packageurl.PackageURL;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import org.cyclonedx.Version;
import org.cyclonedx.exception.GeneratorException;
import org.cyclonedx.exception.ParseException;
import org.cyclonedx.generators.BomGeneratorFactory;
import org.cyclonedx.model.Bom;
import org.cyclonedx.model.Component;
import org.cyclonedx.model.Metadata;
import org.cyclonedx.model.Property;
import org.cyclonedx.model.metadata.ToolInformation;
import org.cyclonedx.parsers.JsonParser;

/** Writes an image's SBOM as CycloneDX 1.6 JSON, and reads the components back (for {@code bundle diff}). */
public final class CycloneDx {

  /** Property naming where in the image a component was found. */
  public static final String PROPERTY_PATH = "airlock:path";
  /** Property naming a platform of a multi-arch image that holds the component. */
  public static final String PROPERTY_PLATFORM = "airlock:platform";
  /** Metadata property: something the catalogue refused or skipped. */
  public static final String PROPERTY_NOTE = "airlock:note";

  private CycloneDx() {}

  /**
   * The SBOM of one image. The serial number is derived from the digest and the time is the bundle's creation, so
   * the same image in the same build gives the same bytes.
   */
  public static byte[] write(String ref, String digest, Instant created, String builderVersion,
      List<ImageCatalogue.PlatformPackages> platforms) {
    Bom bom = new Bom();
    bom.setSerialNumber("urn:uuid:" + UUID.nameUUIDFromBytes(digest.getBytes(StandardCharsets.UTF_8)));
    bom.setVersion(1);
    Metadata md = new Metadata();
    md.setTimestamp(Date.from(created));
    Component subject = new Component();
    subject.setType(Component.Type.CONTAINER);
    subject.setBomRef(digest);
    subject.setName(ref);
    subject.setVersion(digest);
    md.setComponent(subject);
    Component tool = new Component();
    tool.setType(Component.Type.APPLICATION);
    tool.setName("airlock");
    tool.setVersion(builderVersion);
    ToolInformation tools = new ToolInformation();
    tools.setComponents(List.of(tool));
    md.setToolChoice(tools);
    List<Property> notes = new ArrayList<>();
    Set<String> seen = new LinkedHashSet<>();
    for (ImageCatalogue.PlatformPackages p : platforms) {
      for (String n : p.notes()) {
        if (seen.add(n)) {
          notes.add(new Property(PROPERTY_NOTE, (platforms.size() > 1 ? p.platform() + ": " : "") + n));
        }
      }
    }
    if (!notes.isEmpty()) {
      md.setProperties(notes);
    }
    bom.setMetadata(md);
    // One component per purl; a multi-arch image names the platforms that hold it.
    Map<String, Component> byPurl = new TreeMap<>();
    for (ImageCatalogue.PlatformPackages p : platforms) {
      for (CataloguedPackage pkg : p.packages()) {
        String purl = pkg.purl();
        Component c = byPurl.get(purl);
        if (c == null) {
          c = new Component();
          c.setType(Component.Type.LIBRARY);
          c.setBomRef(purl);
          if (pkg.type().equals("maven")) {
            c.setGroup(pkg.namespace());
          }
          c.setName(pkg.name());
          c.setVersion(pkg.version());
          c.setPurl(purl);
          c.setProperties(new ArrayList<>(List.of(new Property(PROPERTY_PATH, pkg.path()))));
          byPurl.put(purl, c);
        }
        if (platforms.size() > 1 && !p.platform().isEmpty()) {
          c.getProperties().add(new Property(PROPERTY_PLATFORM, p.platform()));
        }
      }
    }
    bom.setComponents(new ArrayList<>(byPurl.values()));
    try {
      return BomGeneratorFactory.createJson(Version.VERSION_16, bom).toJsonString()
          .getBytes(StandardCharsets.UTF_8);
    } catch (GeneratorException e) {
      throw new IllegalStateException("cannot write the SBOM of " + ref + ": " + e.getMessage(), e);
    }
  }

  /**
   * A component as read back.
   *
   * @param key what identifies it across versions (purl without version)
   * @param name its name (with the Maven group)
   * @param version its version
   * @param purl its package URL
   */
  public record Entry(String key, String name, String version, String purl) {}

  /** The components of an SBOM with a purl, by key (type, namespace, name and qualifiers). */
  public static Map<String, Entry> components(byte[] bytes, String source) {
    Bom bom;
    try {
      bom = new JsonParser().parse(bytes);
    } catch (ParseException e) {
      throw new AirlockException(Kind.VERIFICATION, source + " is not a CycloneDX JSON document: " + e.getMessage(),
          "copy the bundle again from the vendor's original", e);
    }
    Map<String, Entry> out = new TreeMap<>();
    for (Component c : bom.getComponents() == null ? List.<Component>of() : bom.getComponents()) {
      if (c.getPurl() == null) {
        continue;
      }
      try {
        PackageURL p = new PackageURL(c.getPurl());
        String key = new PackageURL(p.getType(), p.getNamespace(), p.getName(), null,
            p.getQualifiers() == null ? null : new TreeMap<>(p.getQualifiers()), null).canonicalize();
        String name = (p.getNamespace() != null && p.getType().equals("maven") ? p.getNamespace() + ":" : "")
            + p.getName();
        out.put(key, new Entry(key, name, p.getVersion(), c.getPurl()));
      } catch (MalformedPackageURLException e) {
        // a component another tool added with a purl this library cannot read: not comparable, left out
      }
    }
    return out;
  }

  /** The notes ({@value #PROPERTY_NOTE}) of an SBOM. */
  public static List<String> notes(byte[] bytes, String source) {
    try {
      Bom bom = new JsonParser().parse(bytes);
      List<String> out = new ArrayList<>();
      if (bom.getMetadata() != null && bom.getMetadata().getProperties() != null) {
        for (Property p : bom.getMetadata().getProperties()) {
          if (PROPERTY_NOTE.equals(p.getName())) {
            out.add(p.getValue());
          }
        }
      }
      return out;
    } catch (ParseException e) {
      throw new AirlockException(Kind.VERIFICATION, source + " is not a CycloneDX JSON document: " + e.getMessage(),
          "copy the bundle again from the vendor's original", e);
    }
  }

}
