package dev.airlock.sso;

import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Where a server may read what its connectors name: files ({@code {file:}} secrets, {@code idpMetadata},
 * {@code spCertificate}, {@code caFile}) only inside one directory (mounted Secrets), environment variables
 * ({@code {env:}} secrets) only by names on an allow-list. Whoever may edit the SSO configuration may otherwise
 * make the server send any file or variable it can read (its ServiceAccount token, say) to an issuer of their
 * choosing. The CLI, run by a person on their own files, reads what it is given.
 *
 * @param dir the only directory files may come from; null: none may
 * @param envNames the environment variables {@code {env:}} may name: names, or globs such as {@code AIRLOCK_SSO_*}
 */
public record SecretSources(Path dir, List<String> envNames) {

  public SecretSources {
    envNames = List.copyOf(envNames);
    dir = dir == null ? null : dir.toAbsolutePath().normalize();
  }

  /** The environment variables a server reads by default. */
  public static final List<String> DEFAULT_ENV = List.of("AIRLOCK_OIDC_SECRET", "AIRLOCK_SSO_*", "*_CLIENT_SECRET");

  /** Checks every file and variable {@code c} names, without reading them. */
  public void check(SsoConfig.Connector c) {
    for (Named n : named(c)) {
      if (n.ref() != null) {
        check(c.name(), n.field(), n.ref());
      } else if (n.file() != null) {
        checkFile(c.name(), n.field(), n.file());
      }
    }
  }

  /** Checks, then reads every secret {@code c} names (their values are dropped): a connector that can be used. */
  public void resolveAll(SsoConfig.Connector c, Function<String, String> environment) {
    check(c);
    for (Named n : named(c)) {
      if (n.ref() != null) {
        String v = n.ref().resolve(environment);
        if (v.isEmpty()) {
          throw new AirlockException(Kind.BAD_INPUT, "the " + n.field() + " of connector " + c.name() + " ("
              + n.ref().describe() + ") is empty", "put the secret there");
        }
      }
    }
  }

  /** The process environment, limited to the allowed names. */
  public Function<String, String> environment(Function<String, String> environment) {
    return name -> envAllowed(name) ? environment.apply(name) : null;
  }

  private void check(String connector, String field, SecretRef ref) {
    if (ref.env() != null) {
      if (!envAllowed(ref.env())) {
        throw new AirlockException(Kind.BAD_INPUT, "the " + field + " of connector " + connector + " names "
            + "environment variable " + ref.env() + ", which this server does not read secrets from (it reads "
            + String.join(", ", envNames) + ")", "use one of those names, or start the server with --secret-env "
            + ref.env() + " (docs/server.md)").with("check", "secret-source");
      }
      return;
    }
    checkFile(connector, field, ref.file());
  }

  private void checkFile(String connector, String field, Path file) {
    String fix = dir == null ? "start the server with --secrets-dir DIR (a mounted Secret; docs/server.md), and "
        + "name a file in it" : "name a file in " + dir + " (a mounted Secret; docs/server.md)";
    if (dir == null) {
      throw new AirlockException(Kind.BAD_INPUT, "the " + field + " of connector " + connector + " names a file, "
          + "and this server reads files only from a secrets directory, which it has none of", fix)
          .with("check", "secret-source");
    }
    // Decided on the path as written before the file system is asked anything (so no answer says what exists
    // elsewhere), then again on the real path (a link inside may not lead out).
    Path normal = dir.resolve(file).toAbsolutePath().normalize();
    boolean inside = normal.startsWith(dir) && !normal.equals(dir);
    if (inside) {
      try {
        inside = normal.toRealPath().startsWith(dir.toRealPath());
      } catch (IOException e) {
        throw new AirlockException(Kind.BAD_INPUT, "the " + field + " of connector " + connector + " names "
            + normal + ", which cannot be read (" + e.getClass().getSimpleName() + ")", "put the file in " + dir)
            .with("check", "secret-source");
      }
    }
    if (!inside) {
      throw new AirlockException(Kind.BAD_INPUT, "the " + field + " of connector " + connector + " names " + file
          + ", which is outside the server's secrets directory " + dir, fix).with("check", "secret-source");
    }
  }

  private boolean envAllowed(String name) {
    for (String allowed : envNames) {
      if (allowed.equals(name) || allowed.contains("*") && glob(allowed).matcher(name).matches()) {
        return true;
      }
    }
    return false;
  }

  /** A glob whose only wildcard is {@code *} (any run of characters). */
  private static Pattern glob(String pattern) {
    StringBuilder re = new StringBuilder();
    for (String part : pattern.split("\\*", -1)) {
      if (re.length() > 0) {
        re.append(".*");
      }
      re.append(Pattern.quote(part));
    }
    return Pattern.compile(re.toString());
  }

  /** A field of a connector that names something the server reads: a secret, or a plain file. */
  private record Named(String field, SecretRef ref, Path file) {}

  private static List<Named> named(SsoConfig.Connector c) {
    List<Named> out = new ArrayList<>();
    if (c instanceof SsoConfig.Oidc o) {
      out.add(new Named("clientSecret", o.clientSecret(), null));
      out.add(new Named("privateKey", o.privateKey(), null));
      out.add(new Named("caFile", null, o.caFile()));
    } else if (c instanceof SsoConfig.Saml s) {
      out.add(new Named("spKey", s.spKey(), null));
      out.add(new Named("idpMetadata", null, s.idpMetadataFile()));
      out.add(new Named("spCertificate", null, s.spCertificate()));
      out.add(new Named("caFile", null, s.caFile()));
    }
    out.removeIf(n -> n.ref() == null && n.file() == null);
    return out;
  }
}
