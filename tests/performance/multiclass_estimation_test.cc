#include "performance/multiclass_estimation.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "performance/fixture_util.h"

namespace modelmon::performance {
namespace {

using testing::Close;
using testing::ExpectOptional;

using Rows = std::vector<std::vector<double>>;

TEST(MulticlassEstimationTest, MatchesFixtures) {
  const nlohmann::json cases = testing::LoadFixture("cbpe_multiclass.json", "estimation")["cases"];
  ASSERT_FALSE(cases.empty());
  for (const auto& c : cases) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const auto scores = c["scores"].get<Rows>();
    const auto est =
        MulticlassConfidenceEstimator::Fit(scores, c["labels"].get<std::vector<int32_t>>(),
                                           c["predicted"].get<std::vector<int32_t>>());
    ASSERT_TRUE(est.has_value());
    const auto calibrated = c["calibrated"].get<std::vector<bool>>();
    ASSERT_EQ(calibrated.size(), est->calibrations().size());
    for (size_t k = 0; k < calibrated.size(); ++k) {
      EXPECT_EQ(calibrated[k], est->calibrations()[k].calibrated()) << "class " << k;
    }
    const auto ref_p = c["calibrated_reference"].get<Rows>();
    for (size_t i = 0; i < scores.size(); ++i) {
      const std::vector<double> p = est->Calibrate(scores[i]);
      for (size_t k = 0; k < p.size(); ++k) ASSERT_TRUE(Close(ref_p[i][k], p[k])) << i;
    }
    const auto& windows = c["windows"];
    ASSERT_FALSE(windows.empty());
    for (const auto& w : windows) {
      const auto predicted = w["predicted"].get<std::vector<int32_t>>();
      const MulticlassEstimate e = est->Estimate(w["scores"].get<Rows>(), predicted);
      const auto& x = w["estimate"];
      ExpectOptional(x["accuracy"], e.accuracy, "accuracy");
      ExpectOptional(x["precision"], e.precision, "precision");
      ExpectOptional(x["recall"], e.recall, "recall");
      ExpectOptional(x["f1"], e.f1, "f1");
      ExpectOptional(x["specificity"], e.specificity, "specificity");
      ExpectOptional(x["roc_auc"], e.roc_auc, "roc_auc");
      const BinaryStandardErrors se = est->Errors(static_cast<int64_t>(predicted.size()));
      const auto& s = w["errors"];
      ExpectOptional(s["accuracy"], se.accuracy, "se accuracy");
      ExpectOptional(s["precision"], se.precision, "se precision");
      ExpectOptional(s["recall"], se.recall, "se recall");
      ExpectOptional(s["f1"], se.f1, "se f1");
      ExpectOptional(s["specificity"], se.specificity, "se specificity");
      ExpectOptional(s["roc_auc"], se.roc_auc, "se roc_auc");
    }
  }
}

TEST(MulticlassEstimationTest, RenormalisesAndEstimatesAccuracyFromPredictedClass) {
  // Perfectly separable scores: every class skips calibration.
  const Rows ref = {{0.8, 0.1, 0.1}, {0.1, 0.8, 0.1}, {0.1, 0.1, 0.8}, {0.7, 0.2, 0.1}};
  const auto est = MulticlassConfidenceEstimator::Fit(ref, {0, 1, 2, 0}, {0, 1, 2, 0});
  ASSERT_TRUE(est.has_value());
  const std::vector<double> p = est->Calibrate({0.2, 0.2, 0.4});
  EXPECT_DOUBLE_EQ(0.25, p[0]);
  EXPECT_DOUBLE_EQ(0.5, p[2]);
  const MulticlassEstimate e = est->Estimate({{0.2, 0.2, 0.4}, {0.6, 0.2, 0.2}}, {2, 0});
  EXPECT_DOUBLE_EQ((0.5 + 0.6) / 2, *e.accuracy);
  ASSERT_EQ(3u, e.per_class.size());
}

TEST(MulticlassEstimationTest, RejectsInvalidReference) {
  EXPECT_FALSE(MulticlassConfidenceEstimator::Fit({}, {}, {}).has_value());
  EXPECT_FALSE(MulticlassConfidenceEstimator::Fit({{1.0}}, {0}, {0}).has_value());
  EXPECT_FALSE(MulticlassConfidenceEstimator::Fit({{0.5, 0.5}}, {2}, {0}).has_value());
  EXPECT_FALSE(MulticlassConfidenceEstimator::Fit({{0.5, 0.5}, {0.5}}, {0, 1}, {0, 1}).has_value());
}

}  // namespace
}  // namespace modelmon::performance
