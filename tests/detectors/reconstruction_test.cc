#include "detectors/reconstruction.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace modelmon::detectors {
namespace {

nlohmann::json LoadEstimationFixture(const std::string& name) {
  const std::string path = std::string(MODELMON_FIXTURE_DIR) + "/estimation/" + name;
  std::ifstream in(path);
  if (!in) ADD_FAILURE() << "cannot open " << path;
  return nlohmann::json::parse(in);
}

// |actual - expected| <= max(1e-9 |expected|, 1e-12).
::testing::AssertionResult Close(double expected, double actual) {
  const double tolerance = std::fmax(1e-9 * std::fabs(expected), 1e-12);
  if (std::fabs(actual - expected) <= tolerance) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "expected " << expected << ", got " << actual;
}

FeatureRows Rows(const nlohmann::json& j) {
  FeatureRows rows;
  rows.numerical = j["numerical"].get<std::vector<std::vector<double>>>();
  rows.categorical = j["categorical"].get<std::vector<std::vector<std::string>>>();
  if (!rows.numerical.empty() && rows.numerical[0].empty()) rows.numerical.clear();
  if (!rows.categorical.empty() && rows.categorical[0].empty()) rows.categorical.clear();
  return rows;
}

TEST(ReconstructionDriftTest, MatchesScikitLearn) {
  const nlohmann::json cases = LoadEstimationFixture("reconstruction.json")["cases"];
  ASSERT_FALSE(cases.empty());
  for (const auto& c : cases) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const auto fit = ReconstructionDrift::Fit(Rows(c), c["chunk_size"].get<size_t>());
    ASSERT_TRUE(fit.has_value());
    EXPECT_EQ(c["components"].get<size_t>(), fit->components());
    EXPECT_EQ(c["encoded_width"].get<size_t>(), fit->encoded_width());
    const auto chunks = c["chunk_errors"].get<std::vector<double>>();
    ASSERT_EQ(chunks.size(), fit->reference_chunk_errors().size());
    for (size_t i = 0; i < chunks.size(); ++i) {
      EXPECT_TRUE(Close(chunks[i], fit->reference_chunk_errors()[i])) << i;
    }
    EXPECT_TRUE(Close(c["lower"].get<double>(), fit->lower_threshold()));
    EXPECT_TRUE(Close(c["upper"].get<double>(), fit->upper_threshold()));
    const auto& batches = c["batches"];
    ASSERT_FALSE(batches.empty());
    for (const auto& b : batches) {
      const auto error = fit->MeanError(Rows(b));
      ASSERT_TRUE(error.has_value());
      EXPECT_TRUE(Close(b["error"].get<double>(), *error));
    }
  }
}

TEST(ReconstructionDriftTest, DecorrelatedBatchDrifts) {
  const nlohmann::json cases = LoadEstimationFixture("reconstruction.json")["cases"];
  ASSERT_FALSE(cases.empty());
  const auto& c = cases[0];  // numerical: an in-distribution batch, a shift, a decorrelation
  const auto fit = ReconstructionDrift::Fit(Rows(c), c["chunk_size"].get<size_t>());
  ASSERT_TRUE(fit.has_value());
  EXPECT_FALSE(fit->Drifted(*fit->MeanError(Rows(c["batches"][0]))));
  EXPECT_TRUE(fit->Drifted(*fit->MeanError(Rows(c["batches"][2]))));
}

TEST(ReconstructionDriftTest, RejectsInvalidInput) {
  FeatureRows ref;
  ref.numerical = {{1, 2}, {2, 1}, {3, 5}, {0, 0}};
  EXPECT_FALSE(ReconstructionDrift::Fit(FeatureRows{}, 2).has_value());
  EXPECT_FALSE(ReconstructionDrift::Fit(ref, 0).has_value());
  EXPECT_FALSE(ReconstructionDrift::Fit(ref, 5).has_value());
  EXPECT_FALSE(ReconstructionDrift::Fit(ref, 2, 1.0).has_value());
  FeatureRows ragged = ref;
  ragged.numerical[1].pop_back();
  EXPECT_FALSE(ReconstructionDrift::Fit(ragged, 2).has_value());
  FeatureRows nan = ref;
  nan.numerical[0][0] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_FALSE(ReconstructionDrift::Fit(nan, 2).has_value());

  const auto fit = ReconstructionDrift::Fit(ref, 2);
  ASSERT_TRUE(fit.has_value());
  EXPECT_FALSE(fit->MeanError(FeatureRows{}).has_value());
  FeatureRows wide;
  wide.numerical = {{1, 2, 3}};
  EXPECT_FALSE(fit->MeanError(wide).has_value());
  EXPECT_FALSE(fit->MeanError(nan).has_value());
}

}  // namespace
}  // namespace modelmon::detectors
