package dev.airlock.oci;

/** A registry username and password (or identity token). */
public record Credentials(String username, String password) {
  @Override
  public String toString() {
    return "Credentials[" + username + ", ****]";
  }
}
