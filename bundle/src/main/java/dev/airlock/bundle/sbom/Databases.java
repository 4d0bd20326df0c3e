package dev.airlock.bundle.sbom;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Parsers for the package databases and metadata files a layer may hold. Lenient: a bad stanza is left out. */
final class Databases {

  private Databases() {}

  /**
   * Installed packages from a dpkg status file (or one {@code status.d} file): RFC 822 stanzas; a stanza counts
   * when its {@code Status} is absent (distroless' status.d) or ends in {@code installed}. The namespace is filled
   * in later from os-release.
   */
  static List<CataloguedPackage> dpkg(String text, String path) {
    List<CataloguedPackage> out = new ArrayList<>();
    for (Map<String, String> s : stanzas(text, ':')) {
      String status = s.get("Status");
      if (status != null && !status.trim().endsWith(" installed")) {
        continue;
      }
      String name = s.get("Package");
      String version = s.get("Version");
      if (name != null && version != null && !name.isBlank() && !version.isBlank()) {
        out.add(new CataloguedPackage("deb", null, name.trim(), version.trim(), blankToNull(s.get("Architecture")),
            path));
      }
    }
    return out;
  }

  /** Installed packages from apk's {@code lib/apk/db/installed}: stanzas of {@code P:}, {@code V:}, {@code A:}. */
  static List<CataloguedPackage> apk(String text, String path) {
    List<CataloguedPackage> out = new ArrayList<>();
    for (Map<String, String> s : stanzas(text, ':')) {
      String name = s.get("P");
      String version = s.get("V");
      if (name != null && version != null && !name.isBlank() && !version.isBlank()) {
        out.add(new CataloguedPackage("apk", null, name.trim(), version.trim(), blankToNull(s.get("A")), path));
      }
    }
    return out;
  }

  /** The {@code ID} of an os-release file, lower case, unquoted; null when it has none. */
  static String osReleaseId(String text) {
    for (String line : text.split("\n")) {
      String l = line.trim();
      if (l.startsWith("ID=")) {
        String v = l.substring(3).trim();
        if (v.length() >= 2 && (v.startsWith("\"") && v.endsWith("\"") || v.startsWith("'") && v.endsWith("'"))) {
          v = v.substring(1, v.length() - 1);
        }
        v = v.toLowerCase(Locale.ROOT);
        return v.matches("[a-z0-9._-]{1,64}") ? v : null;
      }
    }
    return null;
  }

  /** A Python distribution from its {@code .dist-info/METADATA} headers; null without Name and Version. */
  static CataloguedPackage pythonMetadata(String text, String path) {
    String name = null;
    String version = null;
    for (String line : text.split("\n")) {
      String l = line.stripTrailing();
      if (l.isEmpty()) {
        break;
      }
      if (l.startsWith("Name:") && name == null) {
        name = l.substring(5).trim();
      } else if (l.startsWith("Version:") && version == null) {
        version = l.substring(8).trim();
      }
    }
    if (name == null || version == null || name.isEmpty() || version.isEmpty()) {
      return null;
    }
    // PEP 503 normalisation, as the pypi purl type asks.
    String normal = name.toLowerCase(Locale.ROOT).replaceAll("[-_.]+", "-");
    return new CataloguedPackage("pypi", null, normal, version, null, path);
  }

  private static List<Map<String, String>> stanzas(String text, char sep) {
    List<Map<String, String>> out = new ArrayList<>();
    Map<String, String> cur = new LinkedHashMap<>();
    String last = null;
    for (String line : text.split("\n", -1)) {
      String l = line.endsWith("\r") ? line.substring(0, line.length() - 1) : line;
      if (l.isBlank()) {
        if (!cur.isEmpty()) {
          out.add(cur);
          cur = new LinkedHashMap<>();
        }
        last = null;
        continue;
      }
      if ((l.charAt(0) == ' ' || l.charAt(0) == '\t') && last != null) {
        continue; // a continuation line: none of the fields read here span lines
      }
      int i = l.indexOf(sep);
      if (i <= 0) {
        continue;
      }
      last = l.substring(0, i);
      cur.putIfAbsent(last, l.substring(i + 1).trim());
    }
    if (!cur.isEmpty()) {
      out.add(cur);
    }
    return out;
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s.trim();
  }
}
