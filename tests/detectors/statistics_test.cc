#include "detectors/statistics.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "detectors/fixture_util.h"
#include "detectors/kolmogorov.h"

namespace modelmon::detectors {
namespace {

using testing::Doubles;
using testing::LoadFixture;
using testing::PValueNear;
using testing::Sample;
using testing::StatisticNear;

TEST(KolmogorovTest, KstwoSfMatchesScipyGrid) {
  const auto fixture = LoadFixture("kstwo.json");
  double worst = 0.0;
  ASSERT_FALSE(fixture["kstwo_sf"].empty());
  for (const auto& c : fixture["kstwo_sf"]) {
    const auto n = c["n"].get<int64_t>();
    const double d = c["d"].get<double>();
    const double expected = c["sf"].get<double>();
    const double actual = KolmogorovSf(d, n);
    EXPECT_TRUE(PValueNear(actual, expected)) << "n=" << n << " d=" << d;
    if (expected > 1e-300) worst = std::max(worst, testing::RelError(actual, expected));
  }
  RecordProperty("worst_relative_error", std::to_string(worst));
  ASSERT_FALSE(fixture["checked"].empty());
  for (const auto& c : fixture["checked"]) {
    EXPECT_TRUE(PValueNear(KolmogorovSf(c["d"].get<double>(), c["n"].get<int64_t>()),
                           c["sf"].get<double>()));
  }
}

TEST(KolmogorovTest, SmirnovSfMatchesScipyGrid) {
  const auto fixture = LoadFixture("kstwo.json");
  ASSERT_FALSE(fixture["smirnov_sf"].empty());
  for (const auto& c : fixture["smirnov_sf"]) {
    const auto n = c["n"].get<int64_t>();
    const double d = c["d"].get<double>();
    EXPECT_TRUE(PValueNear(SmirnovSf(n, d), c["sf"].get<double>())) << "n=" << n << " d=" << d;
  }
}

TEST(KolmogorovTest, Boundaries) {
  EXPECT_EQ(KolmogorovSf(0.0, 10), 1.0);
  EXPECT_EQ(KolmogorovSf(-1.0, 10), 1.0);
  EXPECT_EQ(KolmogorovSf(1.0, 10), 0.0);
  EXPECT_EQ(KolmogorovSf(std::numeric_limits<double>::quiet_NaN(), 10), 0.0);
  EXPECT_EQ(SmirnovSf(5, 0.0), 1.0);
  EXPECT_EQ(SmirnovSf(5, 1.0), 0.0);
}

TEST(KsTwoSampleTest, MatchesScipyKs2samp) {
  const nlohmann::json cases = LoadFixture("ks_2samp.json");
  ASSERT_FALSE(cases.empty());
  for (const auto& c : cases) {
    const std::vector<double> a = Sample(c["a"]);
    const std::vector<double> b = Sample(c["b"]);
    const KsResult r = KsTwoSample(a, b);
    const std::string name = c["name"].get<std::string>();
    EXPECT_TRUE(StatisticNear(r.statistic, c["statistic"].get<double>())) << name;
    EXPECT_TRUE(PValueNear(r.p_value, c["p_value"].get<double>())) << name;
    // Symmetric in its arguments.
    const KsResult swapped = KsTwoSample(b, a);
    EXPECT_TRUE(StatisticNear(swapped.statistic, r.statistic)) << name;
    EXPECT_TRUE(PValueNear(swapped.p_value, r.p_value)) << name;
  }
}

TEST(KsTwoSampleTest, PValueMatchesScipyAcrossRegimes) {
  const nlohmann::json cases = LoadFixture("ks_pvalue.json");
  ASSERT_FALSE(cases.empty());
  for (const auto& c : cases) {
    const auto n1 = c["n1"].get<int64_t>();
    const auto n2 = c["n2"].get<int64_t>();
    const double d = c["d"].get<double>();
    EXPECT_TRUE(PValueNear(KsTwoSamplePValue(n1, n2, d), c["p_value"].get<double>()))
        << n1 << " " << n2 << " d=" << d;
  }
}

TEST(KsTwoSampleTest, DegenerateInputs) {
  const std::vector<double> empty;
  const std::vector<double> one = {1.0};
  const KsResult r = KsTwoSample(empty, one);
  EXPECT_EQ(r.statistic, 0.0);
  EXPECT_EQ(r.p_value, 1.0);
  EXPECT_EQ(KsTwoSamplePValue(0, 5, 0.5), 1.0);
  EXPECT_EQ(KsFromScaledStatistic(3, 4, 0).p_value, 1.0);
}

TEST(Chi2Test, HomogeneityMatchesScipy) {
  const auto fixture = LoadFixture("chi2.json");
  ASSERT_FALSE(fixture["homogeneity"].empty());
  for (const auto& c : fixture["homogeneity"]) {
    const std::vector<double> ref = Doubles(c["reference"]);
    const std::vector<double> win = Doubles(c["window"]);
    const Chi2Result r = Chi2Homogeneity(ref, win);
    EXPECT_TRUE(StatisticNear(r.statistic, c["statistic"].get<double>())) << c.dump();
    EXPECT_TRUE(PValueNear(r.p_value, c["p_value"].get<double>())) << c.dump();
    EXPECT_EQ(r.dof, c["dof"].get<int64_t>()) << c.dump();
  }
}

TEST(Chi2Test, SfMatchesScipy) {
  const nlohmann::json fixture = LoadFixture("chi2.json");
  ASSERT_FALSE(fixture["sf"].empty());
  for (const auto& c : fixture["sf"]) {
    EXPECT_TRUE(
        PValueNear(Chi2Sf(c["x"].get<double>(), c["dof"].get<double>()), c["sf"].get<double>()))
        << c.dump();
  }
  EXPECT_EQ(Chi2Sf(0.0, 3.0), 1.0);
  EXPECT_EQ(Chi2Sf(-1.0, 3.0), 1.0);
  EXPECT_EQ(Chi2Sf(std::numeric_limits<double>::infinity(), 3.0), 0.0);
}

TEST(Chi2Test, DegenerateTables) {
  const std::vector<double> zeros = {0.0, 0.0};
  const std::vector<double> some = {3.0, 4.0};
  const Chi2Result r = Chi2Homogeneity(zeros, some);
  EXPECT_EQ(r.statistic, 0.0);
  EXPECT_EQ(r.p_value, 1.0);
  EXPECT_EQ(r.dof, 0);
}

TEST(PsiJsTest, CategoricalCountsMatchReference) {
  const nlohmann::json fixture = LoadFixture("psi_js.json");
  ASSERT_FALSE(fixture["categorical"].empty());
  for (const auto& c : fixture["categorical"]) {
    const std::vector<double> ref = Doubles(c["reference"]);
    const std::vector<double> win = Doubles(c["window"]);
    EXPECT_TRUE(StatisticNear(Psi(ref, win), c["psi"].get<double>())) << c.dump();
    EXPECT_TRUE(StatisticNear(JensenShannonDistance(ref, win), c["js"].get<double>())) << c.dump();
  }
}

TEST(PsiJsTest, DegenerateInputs) {
  const std::vector<double> zeros = {0.0, 0.0};
  const std::vector<double> some = {3.0, 4.0};
  EXPECT_EQ(Psi(zeros, some), 0.0);
  EXPECT_EQ(JensenShannonDistance(zeros, some), 0.0);
  EXPECT_EQ(Psi(some, some), 0.0);
  EXPECT_EQ(JensenShannonDistance(some, some), 0.0);
}

TEST(WassersteinTest, MatchesScipy) {
  const nlohmann::json cases = LoadFixture("wasserstein.json");
  ASSERT_FALSE(cases.empty());
  for (const auto& c : cases) {
    const std::vector<double> u = Sample(c["u"]);
    const std::vector<double> v = Sample(c["v"]);
    EXPECT_TRUE(StatisticNear(WassersteinDistance(u, v), c["distance"].get<double>()))
        << c["u"].dump();
    EXPECT_TRUE(StatisticNear(WassersteinDistance(v, u), c["distance"].get<double>()));
    EXPECT_TRUE(StatisticNear(PopulationStddev(u), c["u_std"].get<double>()));
    EXPECT_TRUE(StatisticNear(NormedWassersteinDistance(u, v), c["normed"].get<double>()));
  }
  const std::vector<double> empty;
  const std::vector<double> one = {1.0};
  EXPECT_EQ(WassersteinDistance(empty, one), 0.0);
}

}  // namespace
}  // namespace modelmon::detectors
