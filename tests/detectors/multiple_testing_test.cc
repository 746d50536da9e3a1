#include "detectors/multiple_testing.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "detectors/fixture_util.h"
#include "detectors/sequential_fixtures.h"

namespace modelmon::detectors {
namespace {

using nlohmann::json;
using testing::LoadSequentialFixture;
using testing::RelError;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void ExpectMatches(const MultipleTestResult& actual, const json& expected) {
  const json& rejected = expected["rejected"];
  const json& adjusted = expected["adjusted"];
  ASSERT_EQ(actual.rejected.size(), rejected.size());
  ASSERT_EQ(actual.adjusted.size(), adjusted.size());
  for (size_t i = 0; i < rejected.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(actual.rejected[i], rejected[i].get<bool>());
    if (adjusted[i].is_null()) {
      EXPECT_TRUE(std::isnan(actual.adjusted[i]));
    } else {
      EXPECT_LE(RelError(actual.adjusted[i], adjusted[i].get<double>()), 1e-12)
          << actual.adjusted[i] << " vs " << adjusted[i];
    }
  }
}

TEST(MultipleTestingFixtureTest, MatchesStatsmodelsFormulas) {
  const json cases = LoadSequentialFixture("multiple_testing.json");
  ASSERT_FALSE(cases.empty());
  int rejections = 0;
  for (const auto& c : cases) {
    std::vector<double> p;
    for (const auto& v : c["p_values"]) p.push_back(v.is_null() ? kNaN : v.get<double>());
    const double alpha = c["alpha"].get<double>();
    SCOPED_TRACE("m = " + std::to_string(p.size()) + ", alpha = " + std::to_string(alpha));
    const MultipleTestResult bonferroni = Bonferroni(p, alpha);
    const MultipleTestResult bh = BenjaminiHochberg(p, alpha);
    ExpectMatches(bonferroni, c["bonferroni"]);
    ExpectMatches(bh, c["fdr_bh"]);
    for (const bool r : bh.rejected) rejections += r ? 1 : 0;
  }
  EXPECT_GT(rejections, 0);  // The fixture exercises rejections, not only acceptances.
}

TEST(MultipleTestingTest, TextbookExample) {
  // Benjamini and Hochberg (1995) style: m = 4, alpha = 0.05; cutoffs 0.0125, 0.025, 0.0375, 0.05.
  const std::vector<double> p = {0.04, 0.001, 0.02, 0.2};
  const MultipleTestResult bh = BenjaminiHochberg(p, 0.05);
  EXPECT_EQ(bh.rejected, (std::vector<bool>{false, true, true, false}));
  EXPECT_DOUBLE_EQ(bh.adjusted[1], 0.004);
  EXPECT_DOUBLE_EQ(bh.adjusted[2], 0.04);
  EXPECT_DOUBLE_EQ(bh.adjusted[0], 0.04 * 4 / 3);
  EXPECT_DOUBLE_EQ(bh.adjusted[3], 0.2);
  const MultipleTestResult bf = Bonferroni(p, 0.05);
  EXPECT_EQ(bf.rejected, (std::vector<bool>{false, true, false, false}));
  EXPECT_DOUBLE_EQ(bf.adjusted[0], 0.16);
  EXPECT_DOUBLE_EQ(bf.adjusted[3], 0.8);
}

TEST(MultipleTestingTest, NaNIsNeverRejectedAndNotCounted) {
  const std::vector<double> p = {kNaN, 0.02, kNaN, 0.0};
  const MultipleTestResult bf = Bonferroni(p, 0.05);
  const MultipleTestResult bh = BenjaminiHochberg(p, 0.05);
  for (const auto& r : {bf, bh}) {
    EXPECT_FALSE(r.rejected[0]);
    EXPECT_FALSE(r.rejected[2]);
    EXPECT_TRUE(std::isnan(r.adjusted[0]));
    EXPECT_TRUE(std::isnan(r.adjusted[2]));
    EXPECT_TRUE(r.rejected[1]);  // m = 2: 0.02 <= 0.05 / 2.
    EXPECT_TRUE(r.rejected[3]);
  }
  EXPECT_DOUBLE_EQ(bf.adjusted[1], 0.04);
  EXPECT_DOUBLE_EQ(bh.adjusted[1], 0.02);
  const std::vector<double> all_nan = {kNaN, kNaN};
  EXPECT_EQ(BenjaminiHochberg(all_nan, 0.5).rejected, (std::vector<bool>{false, false}));
  EXPECT_TRUE(Bonferroni({}, 0.05).rejected.empty());
  EXPECT_TRUE(BenjaminiHochberg({}, 0.05).adjusted.empty());
}

// Deterministic p-values: a mix of uniform nulls and small alternatives.
std::vector<double> Family(uint64_t seed, size_t m) {
  uint64_t state = seed;
  auto uniform = [&state]() {
    state += 0x9E3779B97F4A7C15ULL;
    uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return static_cast<double>((z ^ (z >> 31)) >> 11) * std::ldexp(1.0, -53);
  };
  std::vector<double> p(m);
  for (double& v : p) {
    const double u = uniform();
    v = uniform() < 0.3 ? u * 0.01 : u;
  }
  return p;
}

TEST(MultipleTestingPropertyTest, BenjaminiHochbergIsNeverStricterThanBonferroni) {
  int strictly_more = 0;
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    const std::vector<double> p = Family(seed, 1 + seed % 60);
    for (const double alpha : {0.01, 0.05, 0.2}) {
      const MultipleTestResult bf = Bonferroni(p, alpha);
      const MultipleTestResult bh = BenjaminiHochberg(p, alpha);
      int bf_count = 0;
      int bh_count = 0;
      for (size_t i = 0; i < p.size(); ++i) {
        if (bf.rejected[i]) {
          EXPECT_TRUE(bh.rejected[i]) << "seed " << seed << " i " << i;
        }
        // p m and p / (1 / m) may differ by rounding.
        EXPECT_LE(bh.adjusted[i], bf.adjusted[i] * (1.0 + 1e-12));
        EXPECT_GE(bh.adjusted[i], p[i]);
        // Rejection is the adjusted p-value at most alpha.
        EXPECT_EQ(bh.rejected[i], bh.adjusted[i] <= alpha) << "seed " << seed << " i " << i;
        bf_count += bf.rejected[i] ? 1 : 0;
        bh_count += bh.rejected[i] ? 1 : 0;
      }
      strictly_more += bh_count > bf_count ? 1 : 0;
    }
  }
  EXPECT_GT(strictly_more, 0);
}

TEST(MultipleTestingPropertyTest, AdjustedPValuesKeepTheOrder) {
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    const std::vector<double> p = Family(seed, 40);
    const MultipleTestResult bh = BenjaminiHochberg(p, 0.05);
    for (size_t i = 0; i < p.size(); ++i) {
      for (size_t j = 0; j < p.size(); ++j) {
        if (p[i] < p[j]) {
          EXPECT_LE(bh.adjusted[i], bh.adjusted[j]);
        }
      }
      EXPECT_LE(bh.adjusted[i], 1.0);
    }
  }
}

}  // namespace
}  // namespace modelmon::detectors
