package dev.airlock.version;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class VersionRangeTest {

  @ParameterizedTest(name = "{0} contains {1}: {2}")
  @CsvSource(delimiter = ';', value = {
      ">=1.2.0 <1.4.0; 1.2.0; true", ">=1.2.0 <1.4.0; 1.3.9; true", ">=1.2.0 <1.4.0; 1.4.0; false",
      ">=1.2.0 <1.4.0; 1.1.9; false", "^1.2.0; 1.9.9; true", "^1.2.0; 2.0.0; false", "^0.2.3; 0.2.9; true",
      "^0.2.3; 0.3.0; false", "~1.4.0; 1.4.7; true", "~1.4.0; 1.5.0; false", "1.x; 1.99.0; true",
      "1.x; 2.0.0; false", "1.2.x; 1.2.5; true", "*; 7.0.0; true", "=1.2.3; 1.2.3; true",
      "1.2.3; 1.2.4; false", ">=1.27 <1.35; 1.34.2; true", ">=1.27 <1.35; 1.35.0; false",
      "<1.0.0 || >=2.0.0; 2.1.0; true", "<1.0.0 || >=2.0.0; 1.5.0; false", "> 1.2; 1.3.0; true",
      "<=1.4; 1.4.9; true", "<=1.4; 1.5.0; false", ">=1.0.0; 1.0.0-rc.1; false"})
  void contains(String range, String version, boolean expected) {
    assertThat(VersionRange.parse(range).contains(SemVer.parse(version))).isEqualTo(expected);
  }

  @ParameterizedTest
  @CsvSource({"1.0.0-alpha,1.0.0-alpha.1", "1.0.0-alpha.1,1.0.0-alpha.beta", "1.0.0-beta.2,1.0.0-beta.11",
      "1.0.0-rc.1,1.0.0", "1.9.0,1.10.0"})
  void semverOrdering(String lower, String higher) {
    assertThat(SemVer.parse(lower)).isLessThan(SemVer.parse(higher));
  }

  @ParameterizedTest
  @CsvSource({"v1.29.3+k3s1,1.29.3", "1.30,1.30.0", "v1.28.2-eks-1234,1.28.2-eks-1234"})
  void lenientKubernetesVersions(String text, String expected) {
    assertThat(SemVer.parseLenient(text)).isEqualByComparingTo(SemVer.parse(expected));
  }

  @ParameterizedTest
  @CsvSource({"1.0", "1", "one", "1.0.0.0", "01.0.0"})
  void invalidVersions(String text) {
    assertThatThrownBy(() -> SemVer.parse(text)).hasMessageContaining("is not a semantic version");
  }

  @ParameterizedTest
  @CsvSource({"'>=banana'", "'1.2.3 ||'", "'=>1.0.0'"})
  void invalidRanges(String text) {
    assertThatThrownBy(() -> VersionRange.parse(text)).hasMessageContaining("is not a version range");
  }
}
