#include "detectors/calibration.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "detectors/drift.h"
#include "detectors/fixture_util.h"
#include "detectors/sequential_fixtures.h"

namespace modelmon::detectors {
namespace {

using nlohmann::json;
using testing::LoadSequentialFixture;
using testing::RelError;
using testing::Sample;

constexpr double kTolerance = 1e-9;

CalibrationParams Params(const json& c) {
  CalibrationParams p;
  p.window_size = c["window_size"].get<size_t>();
  p.resamples = c["resamples"].get<size_t>();
  p.seed = c["seed"].get<uint64_t>();
  return p;
}

// Distances, thresholds and p-values of one fixture case.
void ExpectMatches(const NullDistribution& null, const json& c) {
  const json& distances = c["distances"];
  ASSERT_EQ(null.distances().size(), distances.size());
  for (size_t i = 0; i < distances.size(); ++i) {
    EXPECT_LE(RelError(null.distances()[i], distances[i].get<double>()), kTolerance)
        << "distance " << i << ": " << null.distances()[i] << " vs " << distances[i];
  }
  ASSERT_FALSE(c["thresholds"].empty());
  for (const auto& t : c["thresholds"]) {
    const double expected = t["threshold"].get<double>();
    EXPECT_LE(RelError(null.Threshold(t["alpha"].get<double>()), expected), kTolerance)
        << "alpha " << t["alpha"];
  }
  ASSERT_FALSE(c["p_values"].empty());
  for (const auto& p : c["p_values"]) {
    EXPECT_DOUBLE_EQ(null.PValue(p["observed"].get<double>()), p["p_value"].get<double>())
        << "observed " << p["observed"];
  }
}

TEST(CalibrationFixtureTest, SplitMix64Stream) {
  const json fixture = LoadSequentialFixture("calibration.json");
  const json& draws = fixture["splitmix64"]["draws"];
  ASSERT_FALSE(draws.empty());
  SplitMix64 rng(fixture["splitmix64"]["seed"].get<uint64_t>());
  for (const auto& d : draws) EXPECT_EQ(std::to_string(rng.Next()), d.get<std::string>());
}

TEST(CalibrationFixtureTest, NumericalReferences) {
  const json cases = LoadSequentialFixture("calibration.json")["numerical"];
  ASSERT_FALSE(cases.empty());
  for (const auto& c : cases) {
    SCOPED_TRACE(c["name"].get<std::string>() + " " + c["test"].get<std::string>() +
                 " n=" + std::to_string(c["window_size"].get<size_t>()));
    const std::optional<DriftTest> test = ParseDriftTest(c["test"].get<std::string>());
    ASSERT_TRUE(test.has_value());
    const std::vector<double> reference = Sample(c["reference"]);
    const std::optional<NullDistribution> null =
        CalibrateNumerical(reference, c["bins"].get<int>(), *test, Params(c));
    ASSERT_TRUE(null.has_value());
    ExpectMatches(*null, c);
  }
}

TEST(CalibrationFixtureTest, CategoricalReferences) {
  const json cases = LoadSequentialFixture("calibration.json")["categorical"];
  ASSERT_FALSE(cases.empty());
  for (const auto& c : cases) {
    SCOPED_TRACE(c["name"].get<std::string>() + " " + c["test"].get<std::string>() +
                 " n=" + std::to_string(c["window_size"].get<size_t>()));
    const std::optional<DriftTest> test = ParseDriftTest(c["test"].get<std::string>());
    ASSERT_TRUE(test.has_value());
    const std::vector<double> counts = testing::Doubles(c["counts"]);
    const std::optional<NullDistribution> null = CalibrateCategorical(counts, *test, Params(c));
    ASSERT_TRUE(null.has_value());
    ExpectMatches(*null, c);
  }
}

std::vector<double> Reference(size_t n) {
  std::vector<double> out;
  for (size_t i = 0; i < n; ++i) out.push_back(std::sin(static_cast<double>(i)) * 3.0);
  return out;
}

TEST(CalibrationTest, DeterministicPerSeed) {
  const std::vector<double> ref = Reference(500);
  CalibrationParams p;
  p.window_size = 40;
  p.resamples = 100;
  p.seed = 5;
  const auto a = CalibrateNumerical(ref, 10, DriftTest::kPsi, p);
  const auto b = CalibrateNumerical(ref, 10, DriftTest::kPsi, p);
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(std::equal(a->distances().begin(), a->distances().end(), b->distances().begin(),
                         b->distances().end()));
  p.seed = 6;
  const auto c = CalibrateNumerical(ref, 10, DriftTest::kPsi, p);
  ASSERT_TRUE(c);
  EXPECT_FALSE(std::equal(a->distances().begin(), a->distances().end(), c->distances().begin(),
                          c->distances().end()));
}

TEST(CalibrationTest, ThresholdAndPValueRules) {
  const NullDistribution null({0.5, 0.1, 0.4, 0.2, 0.3, 0.2, 0.9, 0.6, 0.8, 0.7});
  ASSERT_EQ(null.distances().size(), 10u);
  EXPECT_EQ(null.distances().front(), 0.1);
  EXPECT_EQ(null.Threshold(0.1), 0.8);   // ceil(0.9 * 10) = 9th smallest.
  EXPECT_EQ(null.Threshold(0.05), 0.9);  // ceil(9.5) = 10th.
  EXPECT_EQ(null.Threshold(0.0), 0.9);
  EXPECT_EQ(null.Threshold(1.0), 0.1);   // k clamped to 1.
  EXPECT_EQ(null.Threshold(0.75), 0.2);  // ceil(2.5) = 3rd.
  EXPECT_DOUBLE_EQ(null.PValue(1.0), 1.0 / 11.0);
  EXPECT_DOUBLE_EQ(null.PValue(0.9), 2.0 / 11.0);  // d_b >= observed counts ties.
  EXPECT_DOUBLE_EQ(null.PValue(0.2), 10.0 / 11.0);
  EXPECT_DOUBLE_EQ(null.PValue(0.0), 1.0);
  double previous = 1.0;
  for (double d = -0.1; d < 1.1; d += 0.01) {
    const double p = null.PValue(d);
    EXPECT_GT(p, 0.0);
    EXPECT_LE(p, previous);
    previous = p;
  }
}

TEST(CalibrationTest, RejectsDegenerateInputs) {
  CalibrationParams p;
  p.window_size = 10;
  p.resamples = 10;
  const std::vector<double> empty;
  EXPECT_FALSE(CalibrateNumerical(empty, 10, DriftTest::kPsi, p).has_value());
  const std::vector<double> nan = {std::nan("")};
  EXPECT_FALSE(CalibrateNumerical(nan, 10, DriftTest::kPsi, p).has_value());
  const std::vector<double> ref = Reference(50);
  EXPECT_FALSE(CalibrateNumerical(ref, 10, DriftTest::kChi2, p).has_value());
  const std::vector<double> counts = {3, 4};
  EXPECT_FALSE(CalibrateCategorical(counts, DriftTest::kWasserstein, p).has_value());
  const std::vector<double> zero = {0, 0};
  EXPECT_FALSE(CalibrateCategorical(zero, DriftTest::kPsi, p).has_value());
  CalibrationParams none = p;
  none.window_size = 0;
  EXPECT_FALSE(CalibrateNumerical(ref, 10, DriftTest::kPsi, none).has_value());
  none = p;
  none.resamples = 0;
  EXPECT_FALSE(CalibrateCategorical(counts, DriftTest::kPsi, none).has_value());
}

TEST(CalibrationTest, CategoricalDistancesAreTheDaemons) {
  // One resample of window size n drawn by hand with the documented rule, evaluated by
  // CategoricalWindowState, equals the calibration's single distance.
  const std::vector<double> counts = {40, 30, 20, 10};
  CalibrationParams p;
  p.window_size = 25;
  p.resamples = 1;
  p.seed = 99;
  const auto reference =
      CategoricalReference::Build({{"a", 40}, {"b", 30}, {"c", 20}, {"d", 10}}, 4);
  for (const DriftTest test : {DriftTest::kPsi, DriftTest::kJensenShannon, DriftTest::kChi2}) {
    SplitMix64 rng(p.seed);
    CategoricalWindowState window(reference);
    for (size_t j = 0; j < p.window_size; ++j) {
      const uint64_t r = rng.Below(100);
      window.Add(r < 40 ? 0 : (r < 70 ? 1 : (r < 90 ? 2 : 3)));
    }
    const auto null = CalibrateCategorical(counts, test, p);
    ASSERT_TRUE(null.has_value());
    EXPECT_EQ(null->distances()[0], window.Evaluate(test).statistic) << DriftTestName(test);
  }
}

TEST(CalibrationTest, ThresholdSeparatesShiftedWindows) {
  // A window from a shifted distribution lands beyond the calibrated 1% threshold.
  const std::vector<double> ref = Reference(2000);
  CalibrationParams p;
  p.window_size = 200;
  p.resamples = 200;
  p.seed = 1;
  const auto null = CalibrateNumerical(ref, 10, DriftTest::kWasserstein, p);
  ASSERT_TRUE(null.has_value());
  NumericalWindowState state(NumericalReference::Build(ref, 10));
  std::vector<double> shifted(ref.begin(), ref.begin() + 200);
  for (double& v : shifted) v += 1.0;
  state.Assign(shifted);
  const double observed = state.Evaluate(DriftTest::kWasserstein).statistic;
  EXPECT_GT(observed, null->Threshold(0.01));
  EXPECT_DOUBLE_EQ(null->PValue(observed), 1.0 / 201.0);
  EXPECT_GT(null->Threshold(0.01), 0.0);
  EXPECT_LE(null->Threshold(0.1), null->Threshold(0.01));
}

}  // namespace
}  // namespace modelmon::detectors
