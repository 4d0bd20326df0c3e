package dev.airlock.installer.cli;

import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import java.net.InetSocketAddress;

/** A {@code --listen HOST:PORT} flag. */
public final class ListenAddress {

  private ListenAddress() {}

  /** Parses {@code listen}; {@code example} is shown in the fix when it is not HOST:PORT. */
  public static InetSocketAddress parse(String listen, String example) {
    int colon = listen.lastIndexOf(':');
    try {
      if (colon <= 0) {
        throw new NumberFormatException();
      }
      String host = listen.substring(0, colon).replaceAll("^\\[|\\]$", "");
      return new InetSocketAddress(host, Integer.parseInt(listen.substring(colon + 1)));
    } catch (IllegalArgumentException e) {
      throw new AirlockException(Kind.BAD_INPUT, "--listen '" + listen + "' is not HOST:PORT",
          "e.g. --listen " + example);
    }
  }
}
