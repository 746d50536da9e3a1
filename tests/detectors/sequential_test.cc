#include "detectors/sequential.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "detectors/fixture_util.h"
#include "detectors/sequential_fixtures.h"

namespace modelmon::detectors {
namespace {

using nlohmann::json;
using testing::LoadSequentialFixture;
using testing::RelError;

constexpr double kTolerance = 1e-9;

PageHinkley::Params PageHinkleyParams(const json& p) {
  PageHinkley::Params out;
  out.min_instances = p.value("min_instances", out.min_instances);
  out.delta = p.value("delta", out.delta);
  out.threshold = p.value("threshold", out.threshold);
  out.alpha = p.value("alpha", out.alpha);
  const std::string mode = p.value("mode", std::string("both"));
  out.mode = mode == "up" ? PageHinkley::Mode::kUp
                          : (mode == "down" ? PageHinkley::Mode::kDown : PageHinkley::Mode::kBoth);
  return out;
}

Cusum::Params CusumParams(const json& p) {
  Cusum::Params out;
  out.min_instances = p.value("min_instances", out.min_instances);
  out.k = p.value("k", out.k);
  out.h = p.value("h", out.h);
  if (p.contains("target_mean")) out.target_mean = p["target_mean"].get<double>();
  if (p.contains("target_sigma")) out.target_sigma = p["target_sigma"].get<double>();
  return out;
}

Adwin::Params AdwinParams(const json& p) {
  Adwin::Params out;
  out.delta = p.value("delta", out.delta);
  out.clock = p.value("clock", out.clock);
  out.max_buckets = p.value("max_buckets", out.max_buckets);
  out.min_window_length = p.value("min_window_length", out.min_window_length);
  out.grace_period = p.value("grace_period", out.grace_period);
  return out;
}

Ddm::Params DdmParams(const json& p) {
  Ddm::Params out;
  out.warm_start = p.value("warm_start", out.warm_start);
  out.warning_threshold = p.value("warning_threshold", out.warning_threshold);
  out.drift_threshold = p.value("drift_threshold", out.drift_threshold);
  return out;
}

::testing::AssertionResult Near(double actual, const json& expected) {
  if (expected.is_null()) {
    if (std::isinf(actual)) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << actual << " vs expected infinity";
  }
  const double e = expected.get<double>();
  if (RelError(actual, e) <= kTolerance) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << actual << " vs expected " << e;
}

// Stats of a detector in the fixture's vocabulary.
void ExpectStats(const PageHinkley& d, const json& s) {
  EXPECT_EQ(d.count(), s["count"].get<int64_t>());
  EXPECT_TRUE(Near(d.mean(), s["mean"]));
  EXPECT_TRUE(Near(d.increase_statistic(), s["increase"]));
  EXPECT_TRUE(Near(d.decrease_statistic(), s["decrease"]));
}
void ExpectStats(const Cusum& d, const json& s) {
  EXPECT_EQ(d.ready(), s["ready"].get<bool>());
  EXPECT_TRUE(Near(d.upper(), s["upper"]));
  EXPECT_TRUE(Near(d.lower(), s["lower"]));
  EXPECT_TRUE(Near(d.mu(), s["mu"]));
  EXPECT_TRUE(Near(d.sigma(), s["sigma"]));
}
void ExpectStats(const Adwin& d, const json& s) {
  EXPECT_EQ(d.width(), s["width"].get<int64_t>());
  EXPECT_EQ(d.num_buckets(), s["buckets"].get<size_t>());
  EXPECT_TRUE(Near(d.mean(), s["mean"]));
  EXPECT_TRUE(Near(d.variance(), s["variance"]));
}
void ExpectStats(const Ddm& d, const json& s) {
  EXPECT_EQ(d.count(), s["count"].get<int64_t>());
  EXPECT_EQ(d.warnings(), s["warnings"].get<int64_t>());
  EXPECT_TRUE(Near(d.error_rate(), s["error_rate"]));
  EXPECT_TRUE(Near(d.p_min(), s["p_min"]));
  EXPECT_TRUE(Near(d.s_min(), s["s_min"]));
}

template <typename Detector>
void RunCase(const json& c, Detector detector) {
  SCOPED_TRACE(c["name"].get<std::string>());
  const json* below = c.contains("binary_below") ? &c["binary_below"] : nullptr;
  const std::vector<double> xs = testing::Stream(c["segments"], below);
  ASSERT_FALSE(xs.empty());
  std::vector<std::pair<int64_t, int>> events;
  const json& checkpoints = c["checkpoints"];
  ASSERT_FALSE(checkpoints.empty());
  size_t next_checkpoint = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const ChangeState state = detector.Update(xs[i]);
    if (state != ChangeState::kNone) {
      events.emplace_back(static_cast<int64_t>(i), static_cast<int>(state));
    }
    if (next_checkpoint < checkpoints.size() &&
        checkpoints[next_checkpoint]["index"].get<size_t>() == i) {
      SCOPED_TRACE("checkpoint at " + std::to_string(i));
      ExpectStats(detector, checkpoints[next_checkpoint]["stats"]);
      ++next_checkpoint;
    }
  }
  EXPECT_EQ(next_checkpoint, checkpoints.size());
  std::vector<std::pair<int64_t, int>> expected;
  for (const auto& e : c["events"]) expected.emplace_back(e[0].get<int64_t>(), e[1].get<int>());
  EXPECT_EQ(events, expected);
  EXPECT_EQ(detector.detections(), c["detections"].get<int64_t>());
}

TEST(SequentialFixtureTest, MatchesReferenceImplementation) {
  const json cases = LoadSequentialFixture("detectors.json");
  ASSERT_FALSE(cases.empty());
  int seen[4] = {0, 0, 0, 0};
  for (const auto& c : cases) {
    const std::string kind = c["detector"].get<std::string>();
    const json& p = c["params"];
    if (kind == "page_hinkley") {
      RunCase(c, PageHinkley(PageHinkleyParams(p)));
      ++seen[0];
    } else if (kind == "cusum") {
      RunCase(c, Cusum(CusumParams(p)));
      ++seen[1];
    } else if (kind == "adwin") {
      RunCase(c, Adwin(AdwinParams(p)));
      ++seen[2];
    } else if (kind == "ddm") {
      RunCase(c, Ddm(DdmParams(p)));
      ++seen[3];
    } else {
      ADD_FAILURE() << "unknown detector " << kind;
    }
  }
  for (const int n : seen) EXPECT_GT(n, 0);
}

// Deterministic approximately standard normal values: (sum of 12 uniforms) - 6.
class Normal {
 public:
  explicit Normal(uint64_t seed) : state_(seed) {}
  double Next() {
    double sum = 0.0;
    for (int i = 0; i < 12; ++i) sum += static_cast<double>(Raw() >> 11) * std::ldexp(1.0, -53);
    return sum - 6.0;
  }
  double Uniform() { return static_cast<double>(Raw() >> 11) * std::ldexp(1.0, -53); }

 private:
  uint64_t Raw() {
    state_ += 0x9E3779B97F4A7C15ULL;
    uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  uint64_t state_;
};

template <typename Detector>
int64_t AlarmsOnConstant(Detector detector, double value, int n) {
  int64_t alarms = 0;
  for (int i = 0; i < n; ++i) alarms += detector.Update(value) != ChangeState::kNone ? 1 : 0;
  return alarms + detector.detections();
}

TEST(SequentialPropertyTest, ConstantStreamNeverAlarms) {
  for (const double v : {0.0, 3.7, -1e6, 1e-300}) {
    SCOPED_TRACE(v);
    EXPECT_EQ(AlarmsOnConstant(PageHinkley(), v, 5000), 0);
    PageHinkley::Params ph;
    ph.min_instances = 1;
    ph.threshold = 0.01;
    ph.delta = 0.0;
    EXPECT_EQ(AlarmsOnConstant(PageHinkley(ph), v, 5000), 0);
    EXPECT_EQ(AlarmsOnConstant(Cusum(), v, 5000), 0);
    Cusum::Params cu;
    cu.target_mean = v;
    cu.target_sigma = 0.0;
    cu.k = 0.0;
    cu.h = 0.0;
    EXPECT_EQ(AlarmsOnConstant(Cusum(cu), v, 5000), 0);
    EXPECT_EQ(AlarmsOnConstant(Adwin(), v, 5000), 0);
    Adwin::Params ad;
    ad.clock = 1;
    ad.delta = 0.9;
    EXPECT_EQ(AlarmsOnConstant(Adwin(ad), v, 5000), 0);
  }
  EXPECT_EQ(AlarmsOnConstant(Ddm(), 0.0, 5000), 0);
  EXPECT_EQ(AlarmsOnConstant(Ddm(), 1.0, 5000), 0);
}

// Index of the first drift at or after `change` on a stream whose mean moves by `shift` at
// `change`; -1 when none within `horizon` values after it.
template <typename Detector>
int64_t DelayAfterShift(Detector detector, uint64_t seed, int change, double shift, int horizon) {
  Normal normal(seed);
  for (int i = 0; i < change + horizon; ++i) {
    const double x = normal.Next() + (i >= change ? shift : 0.0);
    if (detector.Update(x) == ChangeState::kDrift && i >= change) return i - change;
  }
  return -1;
}

TEST(SequentialPropertyTest, OneSigmaShiftIsDetected) {
  for (const uint64_t seed : {1u, 2u, 3u, 4u, 5u}) {
    SCOPED_TRACE(seed);
    const int64_t ph = DelayAfterShift(PageHinkley(), seed, 500, 1.0, 2000);
    EXPECT_GE(ph, 0);
    EXPECT_LT(ph, 400);
    const int64_t cu = DelayAfterShift(Cusum(), seed, 500, 1.0, 2000);
    EXPECT_GE(cu, 0);
    EXPECT_LT(cu, 100);
    const int64_t ad = DelayAfterShift(Adwin(), seed, 500, 1.0, 2000);
    EXPECT_GE(ad, 0);
    EXPECT_LT(ad, 200);
    // A falling mean, seen by the lower statistics.
    EXPECT_GE(DelayAfterShift(PageHinkley(), seed, 500, -1.0, 2000), 0);
    EXPECT_GE(DelayAfterShift(Cusum(), seed, 500, -1.0, 2000), 0);
  }
}

TEST(SequentialPropertyTest, DdmDetectsErrorRateIncrease) {
  for (const uint64_t seed : {7u, 8u, 9u}) {
    Normal rng(seed);
    Ddm ddm;
    int64_t first = -1;
    for (int i = 0; i < 4000 && first < 0; ++i) {
      const double rate = i < 1000 ? 0.1 : 0.3;
      const ChangeState s = ddm.Update(rng.Uniform() < rate ? 1.0 : 0.0);
      if (s == ChangeState::kDrift && i >= 1000) first = i - 1000;
    }
    EXPECT_GE(first, 0) << seed;
    EXPECT_LT(first, 1000) << seed;
  }
}

TEST(SequentialPropertyTest, NonFiniteValuesChangeNothing) {
  const double bad[] = {std::numeric_limits<double>::quiet_NaN(),
                        std::numeric_limits<double>::infinity(),
                        -std::numeric_limits<double>::infinity()};
  PageHinkley ph;
  Cusum cu;
  Adwin ad;
  Ddm ddm;
  for (int i = 0; i < 100; ++i) {
    ph.Update(i % 3);
    cu.Update(i % 3);
    ad.Update(i % 3);
    ddm.Update(i % 2);
  }
  const double ph_mean = ph.mean();
  const int64_t ad_width = ad.width();
  const double cu_upper = cu.upper();
  const int64_t ddm_count = ddm.count();
  for (const double x : bad) {
    EXPECT_EQ(ph.Update(x), ChangeState::kNone);
    EXPECT_EQ(cu.Update(x), ChangeState::kNone);
    EXPECT_EQ(ad.Update(x), ChangeState::kNone);
    EXPECT_EQ(ddm.Update(x), ChangeState::kNone);
  }
  EXPECT_EQ(ph.mean(), ph_mean);
  EXPECT_EQ(ph.count(), 100);
  EXPECT_EQ(ad.width(), ad_width);
  EXPECT_EQ(cu.upper(), cu_upper);
  EXPECT_EQ(ddm.count(), ddm_count);
}

TEST(SequentialPropertyTest, ResetClearsStateButKeepsCounters) {
  PageHinkley ph;
  for (int i = 0; i < 200; ++i) ph.Update(i < 100 ? 0.0 : 10.0);
  ASSERT_GT(ph.detections(), 0);
  const int64_t detections = ph.detections();
  ph.Reset();
  EXPECT_EQ(ph.count(), 0);
  EXPECT_EQ(ph.increase_statistic(), 0.0);
  EXPECT_EQ(ph.detections(), detections);

  Cusum cu;
  for (int i = 0; i < 40; ++i) cu.Update(i % 2);
  EXPECT_TRUE(cu.ready());
  cu.Reset();
  EXPECT_FALSE(cu.ready());

  Adwin ad;
  for (int i = 0; i < 100; ++i) ad.Update(1.0);
  ad.Reset();
  EXPECT_EQ(ad.width(), 0);
  EXPECT_EQ(ad.num_buckets(), 0u);
}

TEST(SequentialPropertyTest, AdwinMemoryIsLogarithmic) {
  Adwin::Params params;
  params.delta = 1e-9;  // Practically no cuts: the window keeps growing.
  Adwin ad(params);
  Normal normal(11);
  for (int i = 0; i < 200000; ++i) ad.Update(normal.Next());
  ASSERT_GT(ad.width(), 100000);
  const double levels = std::floor(std::log2(static_cast<double>(ad.width()))) + 1.0;
  EXPECT_LE(static_cast<double>(ad.num_buckets()),
            static_cast<double>(params.max_buckets) * levels);
  EXPECT_NEAR(ad.mean(), 0.0, 0.02);
  EXPECT_NEAR(ad.variance(), 1.0, 0.02);
}

TEST(SequentialPropertyTest, AdwinShrinksWindowAfterChange) {
  Adwin ad;
  for (int i = 0; i < 2000; ++i) ad.Update(0.0);
  EXPECT_EQ(ad.width(), 2000);
  for (int i = 0; i < 320; ++i) ad.Update(1.0);
  EXPECT_GT(ad.detections(), 0);
  EXPECT_LT(ad.width(), 2320);
  EXPECT_GT(ad.mean(), 0.5);
}

}  // namespace
}  // namespace modelmon::detectors
