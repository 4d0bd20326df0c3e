package dev.airlock.airgap.serve;

import com.fasterxml.jackson.databind.JsonNode;
import dev.airlock.bundle.format.BundleFile;
import dev.airlock.bundle.format.BundleLayout;
import dev.airlock.bundle.format.BundleManifest;
import dev.airlock.bundle.format.Json;
import dev.airlock.bundle.format.TarIndex;
import dev.airlock.oci.Digest;
import dev.airlock.oci.ImageReference;
import dev.airlock.oci.MediaTypes;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The read side of the OCI distribution API over a bundle file, without extracting it: manifests by tag or digest,
 * blobs by digest with Range requests, tag lists and the catalog. Repositories are the images' original paths, with
 * or without their registry host ({@code library/nginx} and {@code docker.io/library/nginx} both work).
 * Transport-free: {@link #handle} maps a request to a {@link Response}; the installer binds it to HTTP.
 */
public final class BundleRegistry {

  private static final Pattern MANIFEST = Pattern.compile("/v2/(.+)/manifests/([^/]+)");
  private static final Pattern BLOB = Pattern.compile("/v2/(.+)/blobs/([^/]+)");
  private static final Pattern TAGS = Pattern.compile("/v2/(.+)/tags/list");
  private static final Pattern RANGE = Pattern.compile("bytes=(\\d*)-(\\d*)");

  private final BundleFile file;
  /** repository → tag → manifest digest. */
  private final Map<String, Map<String, Digest>> tags = new TreeMap<>();
  private final Map<Digest, String> manifestTypes = new TreeMap<>();

  public BundleRegistry(BundleFile file) {
    this.file = file;
    BundleManifest manifest = file.readHead().manifest();
    TarIndex index = file.index();
    for (BundleManifest.Image img : manifest.images()) {
      ImageReference ref = ImageReference.parse(img.ref());
      Digest top = Digest.parse(img.digest());
      for (String repo : List.of(ref.repository(), ref.registry() + "/" + ref.repository())) {
        Map<String, Digest> t = tags.computeIfAbsent(repo, k -> new TreeMap<>());
        if (ref.tag() != null) {
          t.put(ref.tag(), top);
        }
      }
      // The manifest document names each image's top manifest; an index names its children. Only those are
      // read, not every small blob.
      addManifest(top, index, true);
    }
  }

  private void addManifest(Digest d, TarIndex index, boolean descend) {
    TarIndex.Entry e = index.get(BundleLayout.blobPath(d));
    if (e == null || e.size() > 4 * 1024 * 1024 || manifestTypes.containsKey(d)) {
      return;
    }
    JsonNode n = read(e);
    if (n == null) {
      return;
    }
    String mt = n.path("mediaType").asText("");
    if (!MediaTypes.isIndex(mt) && !MediaTypes.isManifest(mt)) {
      mt = n.has("manifests") ? MediaTypes.OCI_INDEX : n.has("layers") ? MediaTypes.OCI_MANIFEST : null;
    }
    if (mt == null) {
      return;
    }
    manifestTypes.put(d, mt);
    if (descend && MediaTypes.isIndex(mt)) {
      for (JsonNode child : n.path("manifests")) {
        if (Digest.isDigest(child.path("digest").asText())) {
          addManifest(Digest.parse(child.path("digest").asText()), index, false);
        }
      }
    }
  }

  private JsonNode read(TarIndex.Entry e) {
    try {
      return Json.MAPPER.readTree(file.readAll(e));
    } catch (IOException ex) {
      return null;
    }
  }

  /** A response: status, headers, and either small bytes or a region of a bundle entry. */
  public record Response(int status, Map<String, String> headers, byte[] body, TarIndex.Entry entry, long from,
      long length) {

    public long contentLength() {
      return entry != null ? length : body.length;
    }

    static Response bytes(int status, String contentType, byte[] body) {
      return new Response(status, Map.of("Content-Type", contentType,
          "Docker-Distribution-API-Version", "registry/2.0"), body, null, 0, 0);
    }

    static Response error(int status, String code, String message) {
      String json = "{\"errors\":[{\"code\":\"" + code + "\",\"message\":" + quote(message) + "}]}";
      return bytes(status, "application/json", json.getBytes(StandardCharsets.UTF_8));
    }
  }

  public Response handle(String method, String path, Map<String, String> headers) {
    if (!method.equals("GET") && !method.equals("HEAD")) {
      return Response.error(405, "UNSUPPORTED", "this registry serves a bundle read-only");
    }
    if (path.equals("/v2/") || path.equals("/v2")) {
      return Response.bytes(200, "application/json", "{}".getBytes(StandardCharsets.UTF_8));
    }
    if (path.equals("/v2/_catalog")) {
      StringBuilder sb = new StringBuilder("{\"repositories\":[");
      List<String> repos = new ArrayList<>(new TreeSet<>(tags.keySet()));
      for (int i = 0; i < repos.size(); i++) {
        sb.append(i == 0 ? "" : ",").append(quote(repos.get(i)));
      }
      return Response.bytes(200, "application/json", sb.append("]}").toString().getBytes(StandardCharsets.UTF_8));
    }
    Matcher m = TAGS.matcher(path);
    if (m.matches()) {
      Map<String, Digest> t = tags.get(m.group(1));
      if (t == null) {
        return Response.error(404, "NAME_UNKNOWN", "repository " + m.group(1) + " is not in this bundle");
      }
      StringBuilder sb = new StringBuilder("{\"name\":" + quote(m.group(1)) + ",\"tags\":[");
      int i = 0;
      for (String tag : t.keySet()) {
        sb.append(i++ == 0 ? "" : ",").append(quote(tag));
      }
      return Response.bytes(200, "application/json", sb.append("]}").toString().getBytes(StandardCharsets.UTF_8));
    }
    m = MANIFEST.matcher(path);
    if (m.matches()) {
      return manifest(m.group(1), m.group(2));
    }
    m = BLOB.matcher(path);
    if (m.matches()) {
      return blob(m.group(1), m.group(2), headers.get("range"));
    }
    return Response.error(404, "NOT_FOUND", "no such endpoint: " + path);
  }

  private Response manifest(String repo, String reference) {
    Map<String, Digest> t = tags.get(repo);
    if (t == null) {
      return Response.error(404, "NAME_UNKNOWN", "repository " + repo + " is not in this bundle");
    }
    Digest digest;
    if (Digest.isDigest(reference)) {
      digest = Digest.parse(reference);
    } else {
      digest = t.get(reference);
      if (digest == null) {
        return Response.error(404, "MANIFEST_UNKNOWN", "tag " + reference + " of " + repo + " is not in this bundle");
      }
    }
    String type = manifestTypes.get(digest);
    TarIndex.Entry e = file.index().get(BundleLayout.blobPath(digest));
    if (type == null || e == null) {
      return Response.error(404, "MANIFEST_UNKNOWN", "manifest " + digest + " is not in this bundle");
    }
    return new Response(200, Map.of("Content-Type", type, "Docker-Content-Digest", digest.toString(),
        "Docker-Distribution-API-Version", "registry/2.0"), null, e, 0, e.size());
  }

  private Response blob(String repo, String reference, String range) {
    if (!tags.containsKey(repo)) {
      return Response.error(404, "NAME_UNKNOWN", "repository " + repo + " is not in this bundle");
    }
    if (!Digest.isDigest(reference)) {
      return Response.error(400, "DIGEST_INVALID", "'" + reference + "' is not a digest");
    }
    Digest digest = Digest.parse(reference);
    TarIndex.Entry e = file.index().get(BundleLayout.blobPath(digest));
    if (e == null) {
      return Response.error(404, "BLOB_UNKNOWN", "blob " + digest + " is not in this bundle");
    }
    Map<String, String> h = new TreeMap<>();
    h.put("Content-Type", "application/octet-stream");
    h.put("Docker-Content-Digest", digest.toString());
    h.put("Accept-Ranges", "bytes");
    h.put("Docker-Distribution-API-Version", "registry/2.0");
    if (range != null) {
      Matcher r = RANGE.matcher(range.strip());
      long size = e.size();
      if (!r.matches() || (r.group(1).isEmpty() && r.group(2).isEmpty())) {
        return Response.error(416, "RANGE_INVALID", "unsupported range " + range);
      }
      long from;
      long to;
      if (r.group(1).isEmpty()) {
        long suffix = Long.parseLong(r.group(2));
        from = Math.max(0, size - suffix);
        to = size - 1;
      } else {
        from = Long.parseLong(r.group(1));
        to = r.group(2).isEmpty() ? size - 1 : Math.min(Long.parseLong(r.group(2)), size - 1);
      }
      if (from >= size || to < from) {
        h.put("Content-Range", "bytes */" + size);
        return new Response(416, h, new byte[0], null, 0, 0);
      }
      h.put("Content-Range", "bytes " + from + "-" + to + "/" + size);
      return new Response(206, h, null, e, from, to - from + 1);
    }
    return new Response(200, h, null, e, 0, e.size());
  }

  public BundleFile file() {
    return file;
  }

  private static String quote(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }
}
