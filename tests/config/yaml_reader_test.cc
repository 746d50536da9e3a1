#include "config/yaml_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <string>

#include "detectors/drift_tests.h"
#include "modelmon/config.h"

namespace modelmon::config {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(YamlReaderTest, JoinAndDescribe) {
  EXPECT_EQ(Join("", "models"), "models");
  EXPECT_EQ(Join("server", "tls"), "server.tls");
  EXPECT_EQ(Describe(YAML::Load("~")), "null");
  EXPECT_EQ(Describe(YAML::Load("[1]")), "a list");
  EXPECT_EQ(Describe(YAML::Load("{a: 1}")), "a mapping");
  EXPECT_EQ(Describe(YAML::Load("x")), "\"x\"");
}

TEST(YamlReaderTest, TypedReadsRecordOneErrorEach) {
  YamlReader y;
  EXPECT_EQ(y.Integer(YAML::Load("7"), "a", 1, 10), 7);
  EXPECT_EQ(y.Integer(YAML::Load("11"), "b", 1, 10), std::nullopt);
  EXPECT_EQ(y.Integer(YAML::Load("1.5"), "c", 1, 10), std::nullopt);
  EXPECT_EQ(y.Number(YAML::Load("-2.5"), "d"), -2.5);
  EXPECT_EQ(y.Number(YAML::Load("inf"), "e"), std::nullopt);
  EXPECT_EQ(y.Bool(YAML::Load("yes"), "f"), std::nullopt);
  EXPECT_EQ(y.Duration(YAML::Load("1.5s"), "g"), std::chrono::milliseconds(1500));
  EXPECT_EQ(y.Duration(YAML::Load("0s"), "h"), std::nullopt);
  EXPECT_EQ(y.Url(YAML::Load("https://x"), "i"), std::nullopt);
  EXPECT_EQ(y.Strings(YAML::Load("[a, [b]]"), "j"), std::nullopt);
  EXPECT_THAT(
      y.errors(),
      ElementsAre(
          "b: expected an integer in [1, 10], got 11", "c: expected an integer, got \"1.5\"",
          "e: expected a number, got \"inf\"", "f: expected true|false, got \"yes\"",
          "h: expected a positive duration such as 500ms, 10s, 5m, 1h or 7d, got "
          "\"0s\"",
          "i: expected an http:// URL, got \"https://x\"", "j[1]: expected a string, got a list"));
  EXPECT_THAT(y.TakeErrors(), testing::SizeIs(7));
  EXPECT_THAT(y.errors(), IsEmpty());
}

TEST(YamlReaderTest, ExpandReadsTheEnvironment) {
  ::setenv("MODELMON_YAML_READER_TEST", "v", 1);
  ::unsetenv("MODELMON_YAML_READER_UNSET");
  YamlReader y;
  EXPECT_EQ(y.Expand("a${MODELMON_YAML_READER_TEST}b", "k"), "avb");
  EXPECT_EQ(y.Expand("${MODELMON_YAML_READER_UNSET:-d}", "k"), "d");
  EXPECT_EQ(y.Expand("${not closed", "k"), "${not closed");
  EXPECT_EQ(y.Expand("$${x", "k"), "$${x");
  EXPECT_THAT(y.errors(), IsEmpty());
  EXPECT_EQ(y.Expand("${MODELMON_YAML_READER_UNSET}", "k"), std::nullopt);
  EXPECT_THAT(y.errors(),
              ElementsAre("k: environment variable MODELMON_YAML_READER_UNSET is not set"));
}

TEST(YamlReaderTest, DuplicateKeysAreErrorsAtEveryDepth) {
  YamlReader y;
  y.CheckDuplicateKeys(YAML::Load("server:\n  port: 1\n  port: 2\nmodels:\n  - name: a\n"
                                  "    name: b\nlog: {level: info}\nlog: {level: debug}\n"),
                       "");
  EXPECT_THAT(y.errors(), ::testing::UnorderedElementsAre(
                              "server.port: duplicate key (line 3); each key may appear once",
                              "log: duplicate key (line 8); each key may appear once",
                              "models[0].name: duplicate key (line 6); each key may appear once"));
  YamlReader clean;
  clean.CheckDuplicateKeys(YAML::Load("a: {b: 1, c: [1, {b: 2}]}\nb: 1\n"), "");
  EXPECT_THAT(clean.errors(), IsEmpty());
}

TEST(YamlReaderTest, DuplicateKeysFailTheConfig) {
  const ConfigResult r = LoadConfigString(
      "models:\n  - name: m\n    task: regression\n    task: regression\n"
      "    features: [{name: x, type: numerical}]\n",
      "");
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(r.errors,
              ::testing::Contains(::testing::HasSubstr("models[0].task: duplicate key (line 4)")));
}

TEST(YamlReaderTest, CheckKeysListsTheAllowedKeysInOrder) {
  YamlReader y;
  y.CheckKeys(YAML::Load("{b: 1, z: 2}"), "s", {"b", "a"});
  y.CheckKeys(YAML::Load("[z]"), "s", {"b"});
  EXPECT_THAT(y.errors(), ElementsAre("s.z: unknown key (expected one of: b, a)"));
}

TEST(YamlReaderTest, CheckNameAcceptsLabelSafeNames) {
  YamlReader y;
  y.CheckName("a-b_c.d:e9", "n");
  EXPECT_THAT(y.errors(), IsEmpty());
  y.CheckName("", "n");
  y.CheckName(std::string(129, 'a'), "n");
  y.CheckName("a b", "n");
  EXPECT_THAT(y.errors(), testing::SizeIs(3));
}

// The configuration accepts each drift test of the table exactly for the feature types it applies
// to, and a threshold for each.
TEST(DriftTestVocabularyTest, ConfigAcceptsEveryTableTestForItsTypes) {
  for (const detectors::DriftTestInfo& test : detectors::kDriftTests) {
    for (const bool numerical : {true, false}) {
      const std::string name(test.name);
      const std::string yaml =
          "models:\n  - name: m\n    task: regression\n    reference: {capture: 10}\n"
          "    features: [{name: f, type: " +
          std::string(numerical ? "numerical" : "categorical") + ", tests: [" + name +
          "], thresholds: {" + name + ": 0.5}}]\n";
      const ConfigResult r = LoadConfigString(yaml);
      EXPECT_EQ(r.ok(), numerical ? test.numerical : test.categorical)
          << name << (numerical ? " numerical" : " categorical");
    }
  }
}

}  // namespace
}  // namespace modelmon::config
