package dev.airlock.installer;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** Version and build time of this airlock, from a resource filtered at build time. */
public final class BuildInfo {

  private static final Properties PROPS = new Properties();

  static {
    try (InputStream in = BuildInfo.class.getResourceAsStream("build.properties")) {
      if (in != null) {
        PROPS.load(in);
      }
    } catch (IOException ignored) {
      // defaults below
    }
  }

  private BuildInfo() {}

  public static String version() {
    return PROPS.getProperty("version", "dev");
  }

  public static String built() {
    return PROPS.getProperty("built", "unknown");
  }
}
