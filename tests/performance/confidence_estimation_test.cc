#include "performance/confidence_estimation.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numbers>
#include <optional>
#include <string>
#include <vector>

#include "performance/fixture_util.h"

namespace modelmon::performance {
namespace {

using testing::Close;
using testing::ExpectOptional;

void ExpectComponent(const nlohmann::json& expected,
                     const std::optional<BinaryStandardErrorComponents::Component>& actual,
                     const char* what) {
  if (expected.is_null()) {
    EXPECT_FALSE(actual.has_value()) << what;
    return;
  }
  ASSERT_TRUE(actual.has_value()) << what;
  EXPECT_TRUE(Close(expected[0].get<double>(), actual->std)) << what << " std";
  EXPECT_TRUE(Close(expected[1].get<double>(), actual->fraction)) << what << " fraction";
}

TEST(ConfidenceEstimationTest, MatchesFixtures) {
  const nlohmann::json cases = testing::LoadFixture("cbpe_binary.json", "estimation")["cases"];
  ASSERT_FALSE(cases.empty());
  for (const auto& c : cases) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const auto scores = c["scores"].get<std::vector<double>>();
    const auto labels = c["labels"].get<std::vector<int32_t>>();
    const auto predicted = c["predicted"].get<std::vector<int32_t>>();
    const auto estimator = BinaryConfidenceEstimator::Fit(scores, labels, predicted);
    ASSERT_TRUE(estimator.has_value());
    const BinaryCalibration& cal = estimator->calibration();
    EXPECT_EQ(c["calibrated"].get<bool>(), cal.calibrated());
    ExpectOptional(c["ece_raw"], cal.ece_raw(), "ece_raw");
    ExpectOptional(c["ece_calibrated"], cal.ece_calibrated(), "ece_calibrated");
    const auto ref_p = c["calibrated_reference"].get<std::vector<double>>();
    ASSERT_EQ(ref_p.size(), scores.size());
    for (size_t i = 0; i < scores.size(); ++i) {
      ASSERT_TRUE(Close(ref_p[i], cal.Calibrate(scores[i]))) << i;
    }
    const BinaryStandardErrorComponents comp = StandardErrorComponents(labels, predicted, ref_p);
    const auto& e = c["components"];
    ExpectComponent(e["accuracy"], comp.accuracy, "accuracy");
    ExpectComponent(e["precision"], comp.precision, "precision");
    ExpectComponent(e["recall"], comp.recall, "recall");
    ExpectComponent(e["specificity"], comp.specificity, "specificity");
    ExpectComponent(e["f1"], comp.f1, "f1");
    ExpectComponent(e["roc_auc"], comp.roc_auc, "roc_auc");

    const auto& windows = c["windows"];
    ASSERT_FALSE(windows.empty());
    for (const auto& w : windows) {
      const BinaryEstimate est = estimator->Estimate(w["scores"].get<std::vector<double>>(),
                                                     w["predicted"].get<std::vector<int32_t>>());
      const auto& x = w["estimate"];
      EXPECT_TRUE(Close(x["tp"].get<double>(), est.tp));
      EXPECT_TRUE(Close(x["fp"].get<double>(), est.fp));
      EXPECT_TRUE(Close(x["tn"].get<double>(), est.tn));
      EXPECT_TRUE(Close(x["fn"].get<double>(), est.fn));
      ExpectOptional(x["accuracy"], est.accuracy, "accuracy");
      ExpectOptional(x["precision"], est.precision, "precision");
      ExpectOptional(x["recall"], est.recall, "recall");
      ExpectOptional(x["specificity"], est.specificity, "specificity");
      ExpectOptional(x["f1"], est.f1, "f1");
      ExpectOptional(x["roc_auc"], est.roc_auc, "roc_auc");
    }
  }
}

TEST(ConfidenceEstimationTest, ExpectedConfusionMatrix) {
  const BinaryEstimate e = EstimateBinary({0.9, 0.2, 0.6, 0.1}, {1, 0, 1, 0});
  EXPECT_DOUBLE_EQ(1.5, e.tp);
  EXPECT_DOUBLE_EQ(0.5, e.fp);
  EXPECT_DOUBLE_EQ(1.7, e.tn);
  EXPECT_DOUBLE_EQ(0.3, e.fn);
  EXPECT_DOUBLE_EQ(0.8, *e.accuracy);
  EXPECT_DOUBLE_EQ(0.75, *e.precision);
  EXPECT_DOUBLE_EQ(1.5 / 1.8, *e.recall);
  EXPECT_DOUBLE_EQ(1.5 / 1.9, *e.f1);
}

TEST(ConfidenceEstimationTest, UndefinedMetricsAreAbsent) {
  const BinaryEstimate empty = EstimateBinary({}, {});
  EXPECT_FALSE(empty.accuracy.has_value());
  const BinaryEstimate certain = EstimateBinary({1.0, 1.0}, {1, 1});
  EXPECT_DOUBLE_EQ(1.0, *certain.precision);
  EXPECT_FALSE(certain.specificity.has_value());
  EXPECT_FALSE(certain.roc_auc.has_value());
}

TEST(ConfidenceEstimationTest, RejectsInvalidReference) {
  EXPECT_FALSE(BinaryConfidenceEstimator::Fit({}, {}, {}).has_value());
  EXPECT_FALSE(BinaryConfidenceEstimator::Fit({0.5}, {2}, {1}).has_value());
  EXPECT_FALSE(BinaryConfidenceEstimator::Fit({0.5}, {1}, {}).has_value());
}

TEST(ConfidenceEstimationTest, SplitsAreStratifiedAndDisjoint) {
  std::vector<int32_t> labels;
  for (int i = 0; i < 95; ++i) labels.push_back(i % 5 == 0 ? 1 : 0);
  SplitMix64 rng(42);
  const Split s = StratifiedShuffleSplit(labels, rng);
  EXPECT_EQ(10u, s.test.size());  // ceil(76 / 10) + ceil(19 / 10)
  EXPECT_EQ(85u, s.train.size());
  std::vector<int> seen(labels.size(), 0);
  for (const size_t i : s.test) ++seen[i];
  for (const size_t i : s.train) ++seen[i];
  for (const int v : seen) EXPECT_EQ(1, v);
}

// Deterministic synthetic data: x ~ N(mu, 1), P(y = 1 | x) = sigmoid(a x), and a model scoring
// sigmoid(2 x) that predicts 1 at score >= 0.5.
class Synthetic {
 public:
  explicit Synthetic(uint64_t seed) : rng_(seed) {}
  double Uniform() { return (static_cast<double>(rng_.Next() >> 11) + 0.5) * 0x1.0p-53; }
  double Normal() {
    return std::sqrt(-2 * std::log(Uniform())) * std::cos(2 * std::numbers::pi * Uniform());
  }
  void Draw(int n, double mu, double a, std::vector<double>& scores, std::vector<int32_t>& labels,
            std::vector<int32_t>& predicted) {
    scores.clear();
    labels.clear();
    predicted.clear();
    for (int i = 0; i < n; ++i) {
      const double x = mu + Normal();
      const double s = 1 / (1 + std::exp(-2 * x));
      scores.push_back(s);
      labels.push_back(Uniform() < 1 / (1 + std::exp(-a * x)) ? 1 : 0);
      predicted.push_back(s >= 0.5 ? 1 : 0);
    }
  }

 private:
  SplitMix64 rng_;
};

// Fraction of windows whose realized accuracy lies within the estimated accuracy ± 3 SE.
double CoverageRate(const BinaryConfidenceEstimator& est, Synthetic& gen, double mu, double a,
                    int windows, int n) {
  std::vector<double> s;
  std::vector<int32_t> y, yh;
  int covered = 0;
  for (int w = 0; w < windows; ++w) {
    gen.Draw(n, mu, a, s, y, yh);
    const BinaryEstimate e = est.Estimate(s, yh);
    int correct = 0;
    for (int i = 0; i < n; ++i) correct += y[static_cast<size_t>(i)] == yh[static_cast<size_t>(i)];
    const double realized = static_cast<double>(correct) / n;
    const double band = kSamplingErrorRange * *est.Errors(n).accuracy;
    if (std::fabs(realized - *e.accuracy) <= band) ++covered;
  }
  return static_cast<double>(covered) / windows;
}

TEST(ConfidenceEstimationTest, BandsHoldUnderCovariateShiftAndBreakUnderConceptShift) {
  Synthetic gen(20261202);
  std::vector<double> s;
  std::vector<int32_t> y, yh;
  gen.Draw(5000, 0.0, 2.0, s, y, yh);
  const auto est = BinaryConfidenceEstimator::Fit(s, y, yh);
  ASSERT_TRUE(est.has_value());
  constexpr int kWindows = 200;
  constexpr int kSize = 500;
  const double none = CoverageRate(*est, gen, 0.0, 2.0, kWindows, kSize);
  const double covariate_small = CoverageRate(*est, gen, 0.5, 2.0, kWindows, kSize);
  const double covariate_large = CoverageRate(*est, gen, 1.5, 2.0, kWindows, kSize);
  const double concept_weaker = CoverageRate(*est, gen, 0.0, 0.5, kWindows, kSize);
  const double concept_flipped = CoverageRate(*est, gen, 0.0, -2.0, kWindows, kSize);
  std::printf(
      "coverage: no shift %.3f, covariate mu=0.5 %.3f, covariate mu=1.5 %.3f, concept a=0.5 %.3f, "
      "concept a=-2 %.3f\n",
      none, covariate_small, covariate_large, concept_weaker, concept_flipped);
  EXPECT_GE(none, 0.95);
  EXPECT_GE(covariate_small, 0.95);
  EXPECT_GE(covariate_large, 0.95);
  EXPECT_LE(concept_weaker, 0.05);
  EXPECT_LE(concept_flipped, 0.05);
}

}  // namespace
}  // namespace modelmon::performance
