#include "performance/significance.h"

#include <gtest/gtest.h>

#include <array>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>

#include "performance/fixture_util.h"

namespace modelmon::performance {
namespace {

using testing::LoadFixture;

// Relative 1e-9; expected values below 1e-300 (p-values that underflow) must be matched to
// 1e-300 absolute. Tiny p-values are thus still compared relatively, which is stricter than an
// absolute floor.
::testing::AssertionResult Near(double expected, double actual) {
  const double tolerance = std::fmax(1e-9 * std::fabs(expected), 1e-300);
  if (std::fabs(actual - expected) <= tolerance) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "expected " << expected << ", got " << actual << " (relative difference "
         << (actual - expected) / expected << ")";
}

void ExpectValid(const TestResult& r) {
  EXPECT_FALSE(std::isnan(r.statistic));
  EXPECT_FALSE(std::isnan(r.p_value));
  EXPECT_GE(r.p_value, 0.0);
  EXPECT_LE(r.p_value, 1.0);
}

// Expected values: a textbook pooled z-test with scipy.stats.norm.sf in the generator.
TEST(TwoProportionZTestTest, MatchesScipyNormalFixtures) {
  const nlohmann::json fixture = LoadFixture("significance.json");
  ASSERT_GE(fixture["ztest"].size(), 12u);
  for (const nlohmann::json& c : fixture["ztest"]) {
    SCOPED_TRACE(c.dump());
    const TestResult r = TwoProportionZTest(c["a"][0].get<int64_t>(), c["a"][1].get<int64_t>(),
                                            c["b"][0].get<int64_t>(), c["b"][1].get<int64_t>());
    ExpectValid(r);
    EXPECT_TRUE(Near(c["z"].get<double>(), r.statistic)) << "statistic";
    EXPECT_TRUE(Near(c["p"].get<double>(), r.p_value)) << "p_value";
  }
}

// The fixture's undefined cases: pooled proportion 1, pooled proportion 0, and n_a == 0 (a broken
// precondition); all give statistic 0 and p-value 1 as documented.
TEST(TwoProportionZTestTest, UndefinedCasesGiveNoEvidence) {
  const nlohmann::json fixture = LoadFixture("significance.json");
  ASSERT_EQ(fixture["ztest_undefined"].size(), 3u);
  for (const nlohmann::json& c : fixture["ztest_undefined"]) {
    SCOPED_TRACE(c.dump());
    const TestResult r = TwoProportionZTest(c[0].get<int64_t>(), c[1].get<int64_t>(),
                                            c[2].get<int64_t>(), c[3].get<int64_t>());
    EXPECT_EQ(r.statistic, 0.0);
    EXPECT_EQ(r.p_value, 1.0);
  }
}

TEST(TwoProportionZTestTest, EdgeCases) {
  // Equal proportions: no difference at all.
  TestResult r = TwoProportionZTest(30, 60, 15, 30);
  EXPECT_EQ(r.statistic, 0.0);
  EXPECT_EQ(r.p_value, 1.0);
  // All successes on both sides, and no successes at all.
  r = TwoProportionZTest(7, 7, 3, 3);
  EXPECT_EQ(r.statistic, 0.0);
  EXPECT_EQ(r.p_value, 1.0);
  r = TwoProportionZTest(0, 7, 0, 3);
  EXPECT_EQ(r.statistic, 0.0);
  EXPECT_EQ(r.p_value, 1.0);
  // Antisymmetric in the arms.
  const TestResult ab = TwoProportionZTest(17, 40, 31, 45);
  const TestResult ba = TwoProportionZTest(31, 45, 17, 40);
  EXPECT_EQ(ab.statistic, -ba.statistic);
  EXPECT_EQ(ab.p_value, ba.p_value);
  // Broken preconditions never give NaN.
  for (const auto& [sa, na, sb, nb] : {std::array<int64_t, 4>{1, 0, 1, 5},
                                       {1, 5, 1, -2},
                                       {-1, 5, 1, 5},
                                       {6, 5, 1, 5},
                                       {1, 5, 9, 5}}) {
    r = TwoProportionZTest(sa, na, sb, nb);
    EXPECT_EQ(r.statistic, 0.0);
    EXPECT_EQ(r.p_value, 1.0);
  }
  // Huge counts stay finite.
  r = TwoProportionZTest(INT64_MAX / 2, INT64_MAX, INT64_MAX / 3, INT64_MAX);
  ExpectValid(r);
  EXPECT_GT(r.statistic, 0.0);
  EXPECT_EQ(r.p_value, 0.0);
}

// Expected values: scipy.stats.ttest_ind_from_stats(..., equal_var=False) on samples summarised as
// [n, mean, sum of squared deviations]; std = sqrt(ss / (n - 1)) as in the generator.
TEST(WelchTTestTest, MatchesScipyOnSampleSummaries) {
  const nlohmann::json fixture = LoadFixture("significance.json");
  ASSERT_GE(fixture["welch"].size(), 6u);
  for (const nlohmann::json& c : fixture["welch"]) {
    SCOPED_TRACE(c.dump());
    const int64_t na = c["a"][0].get<int64_t>();
    const int64_t nb = c["b"][0].get<int64_t>();
    const double sa = std::sqrt(c["a"][2].get<double>() / static_cast<double>(na - 1));
    const double sb = std::sqrt(c["b"][2].get<double>() / static_cast<double>(nb - 1));
    const TestResult r =
        WelchTTest(c["a"][1].get<double>(), sa, na, c["b"][1].get<double>(), sb, nb);
    ExpectValid(r);
    EXPECT_TRUE(Near(c["t"].get<double>(), r.statistic)) << "statistic";
    EXPECT_TRUE(Near(c["p"].get<double>(), r.p_value)) << "p_value";
  }
}

// Explicit summaries [mean, std, n]: a zero std on one side, equal means, far tails (p ~ 1e-193),
// df near 1, very unequal n, and tiny / huge scales (the fixture's expected values for those are
// scipy on rescaled inputs, because scipy's own df computation underflows / overflows there).
TEST(WelchTTestTest, MatchesScipyOnExplicitSummaries) {
  const nlohmann::json fixture = LoadFixture("significance.json");
  ASSERT_GE(fixture["welch_summary"].size(), 7u);
  for (const nlohmann::json& c : fixture["welch_summary"]) {
    SCOPED_TRACE(c.dump());
    const TestResult r =
        WelchTTest(c["a"][0].get<double>(), c["a"][1].get<double>(), c["a"][2].get<int64_t>(),
                   c["b"][0].get<double>(), c["b"][1].get<double>(), c["b"][2].get<int64_t>());
    ExpectValid(r);
    EXPECT_TRUE(Near(c["t"].get<double>(), r.statistic)) << "statistic";
    EXPECT_TRUE(Near(c["p"].get<double>(), r.p_value)) << "p_value";
  }
}

TEST(WelchTTestTest, ZeroVarianceAndBrokenPreconditions) {
  TestResult r = WelchTTest(2.5, 0.0, 10, 2.5, 0.0, 4);
  EXPECT_EQ(r.statistic, 0.0);
  EXPECT_EQ(r.p_value, 1.0);
  r = WelchTTest(2.5, 0.0, 10, 2.0, 0.0, 4);
  EXPECT_EQ(r.statistic, DBL_MAX);
  EXPECT_EQ(r.p_value, 0.0);
  r = WelchTTest(-1.0, 0.0, 2, 2.0, 0.0, 2);
  EXPECT_EQ(r.statistic, -DBL_MAX);
  EXPECT_EQ(r.p_value, 0.0);
  // Equal means with variance: t = 0, p = 1.
  r = WelchTTest(1.0, 0.5, 10, 1.0, 3.0, 7);
  EXPECT_EQ(r.statistic, 0.0);
  EXPECT_EQ(r.p_value, 1.0);
  // A statistic that overflows is clamped.
  r = WelchTTest(1e308, 1e-300, 2, -1e308, 1e-300, 2);
  EXPECT_EQ(r.statistic, DBL_MAX);
  EXPECT_EQ(r.p_value, 0.0);
  // Broken preconditions never give NaN.
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  for (const TestResult& broken :
       {WelchTTest(1.0, 1.0, 1, 2.0, 1.0, 5), WelchTTest(1.0, 1.0, 5, 2.0, 1.0, 0),
        WelchTTest(nan, 1.0, 5, 2.0, 1.0, 5), WelchTTest(1.0, inf, 5, 2.0, 1.0, 5),
        WelchTTest(1.0, -1.0, 5, 2.0, 1.0, 5), WelchTTest(1.0, 1e300, 5, 2.0, 1.0, 5)}) {
    EXPECT_EQ(broken.statistic, 0.0);
    EXPECT_EQ(broken.p_value, 1.0);
  }
}

}  // namespace
}  // namespace modelmon::performance
