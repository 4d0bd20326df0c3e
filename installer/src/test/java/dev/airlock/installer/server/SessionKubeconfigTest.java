package dev.airlock.installer.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.airlock.error.AirlockException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which kubeconfig the session commands (whoami, namespace, logout) read. */
class SessionKubeconfigTest {

  @TempDir Path dir;

  Path session(String name, String credential) throws Exception {
    Path file = dir.resolve(name);
    SessionKubeconfig.write(file, new ObjectMapper().readTree("{\"username\":\"alice\",\"session\":\"" + credential
        + "\",\"namespace\":\"dev-alice\",\"kubernetes\":{\"server\":\"https://127.0.0.1:6443\"}}"),
        URI.create("https://airlock.corp:8443"), null, "airlock");
    return file;
  }

  /** login prints "export KUBECONFIG=FILE": whoami and namespace then find the session there, not in ~/.kube. */
  @Test
  void withoutFlag_theFirstSessionKubeconfigOfKUBECONFIG_isRead() throws Exception {
    Path other = dir.resolve("admin.kubeconfig");
    Files.writeString(other, "apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts: []\n");
    Path mine = session("alice.kubeconfig", "as1.alice");
    SessionKubeconfig.Session s = SessionKubeconfig.readOrDefault(null, other + java.io.File.pathSeparator + mine);
    assertThat(s.file()).isEqualTo(mine);
    assertThat(s.credential()).isEqualTo("as1.alice");
    assertThat(s.server()).isEqualTo(URI.create("https://airlock.corp:8443"));
  }

  @Test
  void theFlag_winsOverKUBECONFIG() throws Exception {
    Path flag = session("flag.kubeconfig", "as1.flag");
    Path env = session("env.kubeconfig", "as1.env");
    assertThat(SessionKubeconfig.readOrDefault(flag, env.toString()).credential()).isEqualTo("as1.flag");
  }

  @Test
  void aKUBECONFIGWithoutASession_andNoDefaultFile_saysSoAndHowToLogIn() throws Exception {
    Path other = dir.resolve("admin.kubeconfig");
    Files.writeString(other, "apiVersion: v1\nkind: Config\n");
    String home = System.getProperty("user.home");
    System.setProperty("user.home", dir.resolve("home").toString());
    try {
      assertThatThrownBy(() -> SessionKubeconfig.readOrDefault(null, other.toString()))
          .isInstanceOfSatisfying(AirlockException.class, e -> {
            assertThat(e.getMessage()).contains("KUBECONFIG (" + other + ") names no kubeconfig written by airlock "
                + "login");
            assertThat(e.fix()).hasValueSatisfying(f -> assertThat(f).contains("airlock login"));
          });
    } finally {
      System.setProperty("user.home", home);
    }
  }
}
