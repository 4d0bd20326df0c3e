package dev.airlock.bundle.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.airlock.error.AirlockException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpecParserTest {

  @TempDir Path dir;

  @BeforeEach
  void chart() throws IOException {
    Files.createDirectories(dir.resolve("charts/a"));
    Files.writeString(dir.resolve("charts/a/Chart.yaml"), "apiVersion: v2\nname: a\nversion: 0.1.0\n");
  }

  private static final String HEAD = "apiVersion: airlock.dev/v1alpha1\nkind: Bundle\nname: p\nversion: 1.0.0\n";

  private Path spec(String body) throws IOException {
    Path p = dir.resolve("bundle.yaml");
    Files.writeString(p, body);
    return p;
  }

  private void assertError(String body, String message) throws IOException {
    Path p = spec(body);
    assertThatThrownBy(() -> SpecParser.parse(p)).isInstanceOf(AirlockException.class)
        .hasMessageContaining(p + ":" + message);
  }

  @Test
  void exampleSpecParses() {
    Path example = Path.of(System.getProperty("airlock.repo.root", "../")).resolve("examples/platform/bundle.yaml");
    BundleSpec s = SpecParser.parse(example);
    assertThat(s.components()).hasSize(4);
    assertThat(s.components().get(3).required()).isFalse();
    assertThat(s.upgradesFrom()).isPresent();
    assertThat(s.requirements().memory()).hasValue("8Gi");
  }

  @Test
  void minimalSpec_getsDefaults() throws IOException {
    BundleSpec s = SpecParser.parse(spec(HEAD + "components:\n  - name: a\n    chart: {path: charts/a}\n"));
    assertThat(s.components().get(0).namespace()).as("no namespace: the installation's, chosen at install").isNull();
    assertThat(s.components().get(0).releaseName()).isEqualTo("a");
    assertThat(s.components().get(0).required()).isTrue();
  }

  @Test
  void errorsNameFieldAndLine() throws IOException {
    assertError(HEAD.replace("1.0.0", "1.0") + "components: []\n", "4: version: '1.0' is not a semantic version");
    assertError(HEAD + "components:\n  - name: a\n    chart: {path: charts/a}\n    namespce: x\n",
        "8: components[0].namespce is not a known field");
    assertError(HEAD + "components: []\n", "1: components is missing or empty");
    assertError(HEAD + "components:\n  - name: a\n    chart: {path: charts/missing}\n",
        "7: components[0].chart.path");
    assertError(HEAD + "components:\n  - name: A_b\n    chart: {path: charts/a}\n",
        "6: components[0].name 'A_b' must be a DNS label");
    assertError(HEAD + "components:\n  - name: a\n    chart: {path: charts/a}\n    dependsOn: [b]\n",
        "6: components[0].dependsOn names 'b'");
    assertError(HEAD + "components:\n  - name: a\n    chart: {path: charts/a}\n    dependsOn: [b]\n"
        + "  - name: b\n    chart: {path: charts/a}\n    dependsOn: [a]\n", "6: components[0].dependsOn forms a cycle");
    assertError(HEAD + "images:\n  - 'Bad Image'\ncomponents:\n  - name: a\n    chart: {path: charts/a}\n",
        "6: images: 'Bad Image' is not a valid image reference");
    assertError(HEAD + "upgradesFrom: '>=banana'\ncomponents:\n  - name: a\n    chart: {path: charts/a}\n",
        "5: upgradesFrom: '>=banana' is not a version range");
    assertError(HEAD + "components:\n  - name: a\n    chart: {oci: 'https://x/y'}\n",
        "7: components[0].chart.oci 'https://x/y' must start with oci://");
    assertError(HEAD.replace("Bundle", "Package") + "components: []\n", "2: kind is 'Package'");
    assertError("key: [unclosed\n", "2: not valid YAML");
  }

  @Test
  void imagePolicy_parses_andItsErrorsNameFieldAndLine() throws IOException {
    String comp = "components:\n  - name: a\n    chart: {path: charts/a}\n";
    java.security.KeyPair k = dev.airlock.testing.CosignSigner.ed25519();
    Files.writeString(dir.resolve("cosign.pub"), dev.airlock.testing.CosignSigner.publicPem(k));
    Files.writeString(dir.resolve("bad.pub"), "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
    BundleSpec s = SpecParser.parse(spec(HEAD + comp + "imagePolicy:\n  signatures: required\n  keys: [cosign.pub]\n"
        + "  identities: ['registry.example.com/acme/*']\n"));
    assertThat(s.imagePolicy().signatures()).isEqualTo(ImagePolicy.Signatures.REQUIRED);
    assertThat(s.imagePolicy().keys()).containsExactly(dir.resolve("cosign.pub"));
    assertThat(s.imagePolicy().identities()).containsExactly("registry.example.com/acme/*");
    assertThat(SpecParser.parse(spec(HEAD + comp)).imagePolicy().signatures()).isEqualTo(ImagePolicy.Signatures.OFF);
    assertError(HEAD + comp + "imagePolicy:\n  signatures: required\n  keys: [cosign.pub]\n  rekor: true\n",
        "11: imagePolicy.rekor is not a known field (known: signatures, keys, identities)");
    assertError(HEAD + comp + "imagePolicy:\n  signatures: always\n", "9: imagePolicy.signatures is 'always'");
    assertError(HEAD + comp + "imagePolicy:\n  signatures: required\n", "9: imagePolicy.keys is missing or empty");
    assertError(HEAD + comp + "imagePolicy:\n  signatures: optional\n  keys: [missing.pub]\n",
        "10: imagePolicy.keys " + dir.resolve("missing.pub") + " does not exist");
    assertError(HEAD + comp + "imagePolicy:\n  signatures: optional\n  keys: [bad.pub]\n",
        "10: imagePolicy.keys: image key bad.pub cannot be used");
  }
}
