#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "modelmon/config.h"

namespace modelmon {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

// A model whose drift and performance sections are `extra` (indented under the model).
std::string Model(const std::string& task, const std::string& extra) {
  return "models:\n  - name: m\n    task: " + task +
         "\n    classes: [a, b, c]\n    features:\n      - {name: x, type: numerical}\n"
         "    reference: {file: ref.csv}\n" +
         extra;
}

std::string Binary(const std::string& extra) {
  return "models:\n  - name: m\n    task: binary_classification\n    features:\n"
         "      - {name: x, type: numerical}\n    reference: {file: ref.csv}\n" +
         extra;
}

TEST(EstimationConfigTest, SectionsAreOffByDefaultAndOnOncePresent) {
  ConfigResult r = LoadConfigString(Binary(""));
  ASSERT_TRUE(r.ok());
  const ModelConfig& off = r.config->models[0];
  EXPECT_FALSE(off.performance.estimation.enabled);
  EXPECT_FALSE(off.drift.multivariate.enabled);
  EXPECT_FALSE(off.drift.target.enabled);

  r = LoadConfigString(
      Binary("    performance: {estimation: {metrics: [f1, roc_auc], min_samples: 50}}\n"
             "    drift: {multivariate: {explained_variance: 0.8, chunk_size: 200},\n"
             "            target: {tests: [chi2, psi], prediction_vs_label: false}}\n"));
  ASSERT_TRUE(r.ok()) << r.errors[0];
  const ModelConfig& m = r.config->models[0];
  EXPECT_TRUE(m.performance.estimation.enabled);
  EXPECT_THAT(m.performance.estimation.metrics, ElementsAre("f1", "roc_auc"));
  EXPECT_EQ(m.performance.estimation.min_samples, 50u);
  EXPECT_TRUE(m.drift.multivariate.enabled);
  EXPECT_DOUBLE_EQ(m.drift.multivariate.explained_variance, 0.8);
  EXPECT_EQ(m.drift.multivariate.chunk_size, 200u);
  EXPECT_TRUE(m.drift.target.enabled);
  EXPECT_THAT(m.drift.target.tests, ElementsAre("chi2", "psi"));
  EXPECT_FALSE(m.drift.target.prediction_vs_label);

  r = LoadConfigString(Binary("    performance: {estimation: {enabled: false}}\n"));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r.config->models[0].performance.estimation.enabled);
}

TEST(EstimationConfigTest, InvalidValuesNameTheirKeyPath) {
  ConfigResult r = LoadConfigString(Binary(
      "    performance: {estimation: {metrics: [f1, log_loss, f1], min_samples: 0, extra: 1}}\n"
      "    drift: {multivariate: {explained_variance: 1.5, chunk_size: 1},\n"
      "            target: {tests: [ks], enabled: maybe}}\n"));
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(
      r.errors,
      UnorderedElementsAre(
          ::testing::StartsWith("models[0].performance.estimation.extra: unknown key"),
          ::testing::StartsWith("models[0].performance.estimation.metrics[1]: expected an "
                                "estimated metric accuracy|precision|recall|f1|specificity|"
                                "roc_auc, got \"log_loss\""),
          "models[0].performance.estimation.metrics[2]: duplicate metric \"f1\"",
          ::testing::StartsWith("models[0].performance.estimation.min_samples:"),
          ::testing::StartsWith("models[0].drift.multivariate.explained_variance: expected a "
                                "share in (0, 1)"),
          ::testing::StartsWith("models[0].drift.multivariate.chunk_size:"),
          ::testing::StartsWith("models[0].drift.target.enabled:"),
          ::testing::StartsWith("models[0].drift.target.tests[0]: expected a categorical drift "
                                "test")));
}

TEST(EstimationConfigTest, EstimationIsForClassifiersAndTargetTestsFollowTheLabelType) {
  ConfigResult r = LoadConfigString(
      "models:\n  - name: m\n    task: regression\n    features:\n"
      "      - {name: x, type: numerical}\n    reference: {file: ref.csv}\n"
      "    performance: {estimation: {}}\n    drift: {target: {tests: [ks, wasserstein]}}\n");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.errors, ElementsAre("models[0].performance.estimation: label-free estimation "
                                    "needs a classifier's scores; not available for regression"));
  r = LoadConfigString(
      Model("multiclass_classification", "    performance: {estimation: {metrics: [accuracy]}}\n"));
  ASSERT_TRUE(r.ok()) << r.errors[0];
}

TEST(EstimationConfigTest, TargetPseudoFeatureNamesAreReserved) {
  ConfigResult r = LoadConfigString(
      "models:\n  - name: m\n    task: binary_classification\n    features:\n"
      "      - {name: __label__, type: numerical}\n    reference: {file: ref.csv}\n");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.errors[0], ::testing::HasSubstr("reserved"));
}

}  // namespace
}  // namespace modelmon
