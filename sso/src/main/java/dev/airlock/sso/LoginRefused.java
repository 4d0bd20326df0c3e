package dev.airlock.sso;

import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;

/**
 * Builds the error for a refused login: which check refused it, with what value, and what to change (in the IdP or
 * in the config). The check name travels as data ({@code check}), so tests and the audit log record the reason.
 */
public final class LoginRefused {

  /** The {@link AirlockException#data()} key naming the check that refused a login. */
  public static final String CHECK = AirlockException.CHECK;

  private LoginRefused() {}

  public static AirlockException because(String connector, String check, String what, String fix) {
    return new AirlockException(Kind.DENIED, "login through " + connector + " refused (" + check + "): " + what, fix)
        .with(CHECK, check).with("connector", connector);
  }

  public static AirlockException because(String connector, String check, String what, String fix, Throwable cause) {
    return new AirlockException(Kind.DENIED, "login through " + connector + " refused (" + check + "): " + what, fix,
        cause).with(CHECK, check).with("connector", connector);
  }
}
