package dev.airlock.kubetoken;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;

class Sha256Test {

  @Test
  void equalsTheJdksDigest_atEveryLengthAroundTheBlockEdges() throws Exception {
    Random r = new Random(7);
    for (int len = 0; len < 300; len++) {
      StringBuilder b = new StringBuilder();
      for (int i = 0; i < len; i++) {
        b.append((char) (r.nextInt(0x24f) + 1));
      }
      String s = b.toString();
      String jdk = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(
          StandardCharsets.UTF_8)));
      assertThat(Sha256.hex(s)).as("length %d", len).isEqualTo(jdk);
    }
    assertThat(Sha256.hex("abc")).isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  }
}
