#include "performance/isotonic.h"

#include <gtest/gtest.h>

#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "performance/fixture_util.h"

namespace modelmon::performance {
namespace {

using testing::Close;

TEST(IsotonicRegressionTest, MatchesScikitLearn) {
  const nlohmann::json cases = testing::LoadFixture("isotonic.json", "estimation")["cases"];
  ASSERT_FALSE(cases.empty());
  for (size_t c = 0; c < cases.size(); ++c) {
    SCOPED_TRACE("case " + std::to_string(c));
    const auto& j = cases[c];
    const std::vector<double> w =
        j["w"].is_null() ? std::vector<double>{} : j["w"].get<std::vector<double>>();
    const auto fit = IsotonicRegression::Fit(j["x"].get<std::vector<double>>(),
                                             j["y"].get<std::vector<double>>(), w);
    ASSERT_TRUE(fit.has_value());
    const auto tx = j["thresholds_x"].get<std::vector<double>>();
    const auto ty = j["thresholds_y"].get<std::vector<double>>();
    ASSERT_EQ(tx.size(), fit->thresholds_x().size());
    for (size_t i = 0; i < tx.size(); ++i) {
      EXPECT_EQ(tx[i], fit->thresholds_x()[i]) << i;
      EXPECT_TRUE(Close(ty[i], fit->thresholds_y()[i])) << i;
    }
    const auto query = j["query"].get<std::vector<double>>();
    const auto predict = j["predict"].get<std::vector<double>>();
    ASSERT_FALSE(query.empty());
    for (size_t i = 0; i < query.size(); ++i) {
      EXPECT_TRUE(Close(predict[i], fit->Predict(query[i]))) << "x = " << query[i];
    }
  }
}

TEST(IsotonicRegressionTest, PoolsViolatorsToWeightedMean) {
  const auto fit = IsotonicRegression::Fit({1, 2, 3}, {3, 1, 2}, {1, 1, 2});
  ASSERT_TRUE(fit.has_value());
  EXPECT_DOUBLE_EQ(2.0, fit->Predict(1));
  EXPECT_DOUBLE_EQ(2.0, fit->Predict(3));
  EXPECT_DOUBLE_EQ(2.0, fit->Predict(100));
}

TEST(IsotonicRegressionTest, InterpolatesAndClips) {
  const auto fit = IsotonicRegression::Fit({0, 1}, {0, 1});
  ASSERT_TRUE(fit.has_value());
  EXPECT_DOUBLE_EQ(0.25, fit->Predict(0.25));
  EXPECT_DOUBLE_EQ(0.0, fit->Predict(-5));
  EXPECT_DOUBLE_EQ(1.0, fit->Predict(5));
}

TEST(IsotonicRegressionTest, RejectsInvalidInput) {
  EXPECT_FALSE(IsotonicRegression::Fit({}, {}).has_value());
  EXPECT_FALSE(IsotonicRegression::Fit({1, 2}, {1}).has_value());
  EXPECT_FALSE(IsotonicRegression::Fit({1, 2}, {1, 2}, {1}).has_value());
  EXPECT_FALSE(IsotonicRegression::Fit({1, 2}, {1, 2}, {0, 0}).has_value());
  EXPECT_FALSE(IsotonicRegression::Fit({1, 2}, {1, 2}, {1, -1}).has_value());
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_FALSE(IsotonicRegression::Fit({1, nan}, {1, 2}).has_value());
}

TEST(PoolAdjacentViolatorsTest, ResultIsNonDecreasing) {
  std::vector<double> y = {5, 1, 4, 2, 3, 0, 6};
  std::vector<double> w(y.size(), 1.0);
  PoolAdjacentViolators(y, w);
  for (size_t i = 1; i < y.size(); ++i) EXPECT_LE(y[i - 1], y[i]) << i;
}

}  // namespace
}  // namespace modelmon::performance
