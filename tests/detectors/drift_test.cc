#include "detectors/drift.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <deque>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/splitmix64.h"
#include "detectors/fixture_util.h"
#include "detectors/statistics.h"

namespace modelmon::detectors {
namespace {

using testing::Doubles;
using testing::LoadFixture;
using testing::PValueNear;
using testing::Sample;
using testing::StatisticNear;

// Deterministic test stream (splitmix64).
class Stream {
 public:
  explicit Stream(uint64_t seed) : rng_(seed) {}
  uint64_t Next() { return rng_.Next(); }
  double Uniform() { return static_cast<double>(Next() >> 11) * std::ldexp(1.0, -53); }
  // Values on a 1/8 grid (many ties, many equal to reference values) or continuous.
  double Value(bool ties, double shift) {
    if (ties) return shift + static_cast<double>(Next() % 40) / 8.0;
    return shift + 5.0 * (Uniform() + Uniform());
  }

 private:
  SplitMix64 rng_;
};

// prefix + decimal i (avoids GCC 12's false -Wrestrict on const char* + std::string&&).
std::string Name(const char* prefix, uint64_t i) {
  std::string s(prefix);
  s += std::to_string(i);
  return s;
}

std::vector<double> BinCounts(const NumericalReference& ref, const std::vector<double>& values) {
  std::vector<double> counts(ref.num_bins(), 0.0);
  for (const double v : values) counts[ref.BinOf(v)] += 1.0;
  return counts;
}

TEST(DriftTestNamesTest, RoundTripAndProperties) {
  for (const DriftTest t : {DriftTest::kKs, DriftTest::kChi2, DriftTest::kPsi,
                            DriftTest::kWasserstein, DriftTest::kJensenShannon}) {
    EXPECT_EQ(ParseDriftTest(DriftTestName(t)), t);
  }
  EXPECT_EQ(DriftTestName(DriftTest::kJensenShannon), "jensen_shannon");
  EXPECT_EQ(ParseDriftTest("KS"), std::nullopt);
  EXPECT_EQ(ParseDriftTest("auto"), std::nullopt);
  EXPECT_TRUE(HasPValue(DriftTest::kKs));
  EXPECT_TRUE(HasPValue(DriftTest::kChi2));
  EXPECT_FALSE(HasPValue(DriftTest::kPsi));
  EXPECT_TRUE(Supports(DriftTest::kKs, FeatureKind::kNumerical));
  EXPECT_FALSE(Supports(DriftTest::kKs, FeatureKind::kCategorical));
  EXPECT_TRUE(Supports(DriftTest::kChi2, FeatureKind::kCategorical));
  EXPECT_FALSE(Supports(DriftTest::kChi2, FeatureKind::kNumerical));
  EXPECT_TRUE(Supports(DriftTest::kPsi, FeatureKind::kCategorical));
  EXPECT_TRUE(Supports(DriftTest::kJensenShannon, FeatureKind::kNumerical));
  EXPECT_FALSE(Supports(DriftTest::kWasserstein, FeatureKind::kCategorical));
}

TEST(NumericalDriftTest, MatchesScipyAndDocumentedBins) {
  const nlohmann::json fixture = LoadFixture("psi_js.json");
  ASSERT_FALSE(fixture["numerical"].empty());
  for (const auto& c : fixture["numerical"]) {
    const std::string name = c["name"].get<std::string>();
    const std::vector<double> ref_values = Sample(c["reference"]);
    const std::vector<double> window = Sample(c["window"]);
    const auto ref = NumericalReference::Build(ref_values, c["bins"].get<int>());
    const std::vector<double> edges(ref->bin_edges().begin(), ref->bin_edges().end());
    EXPECT_EQ(edges, Doubles(c["edges"])) << name;
    const std::vector<double> ref_counts(ref->bin_counts().begin(), ref->bin_counts().end());
    EXPECT_EQ(ref_counts, Doubles(c["reference_counts"])) << name;
    EXPECT_TRUE(StatisticNear(ref->stddev(), c["reference_std"].get<double>())) << name;

    NumericalWindowState state(ref);
    for (const double v : window) state.Add(v);
    const std::vector<double> win_counts(state.bin_counts().begin(), state.bin_counts().end());
    EXPECT_EQ(win_counts, Doubles(c["window_counts"])) << name;
    EXPECT_TRUE(StatisticNear(state.Evaluate(DriftTest::kPsi).statistic, c["psi"].get<double>()))
        << name;
    EXPECT_TRUE(
        StatisticNear(state.Evaluate(DriftTest::kJensenShannon).statistic, c["js"].get<double>()))
        << name;
    EXPECT_TRUE(StatisticNear(state.Evaluate(DriftTest::kWasserstein).statistic,
                              c["wasserstein_normed"].get<double>()))
        << name;
    const DriftOutcome ks = state.Evaluate(DriftTest::kKs);
    const KsResult batch = KsTwoSample(ref_values, window);
    EXPECT_EQ(ks.statistic, batch.statistic) << name;
    ASSERT_TRUE(ks.p_value.has_value());
    EXPECT_EQ(*ks.p_value, batch.p_value) << name;
  }
}

TEST(NumericalDriftTest, KsStreamingMatchesScipyCases) {
  // The scipy ks_2samp fixtures, fed through the streaming state (reference = a, window = b).
  const nlohmann::json cases = LoadFixture("ks_2samp.json");
  ASSERT_FALSE(cases.empty());
  for (const auto& c : cases) {
    const std::vector<double> a = Sample(c["a"]);
    const std::vector<double> b = Sample(c["b"]);
    if (a.size() + b.size() > 60000) continue;  // Keeps the test fast; covered in batch.
    NumericalWindowState state(NumericalReference::Build(a, 10));
    for (const double v : b) state.Add(v);
    const DriftOutcome out = state.Evaluate(DriftTest::kKs);
    EXPECT_TRUE(StatisticNear(out.statistic, c["statistic"].get<double>())) << c["name"];
    EXPECT_TRUE(PValueNear(*out.p_value, c["p_value"].get<double>())) << c["name"];
  }
}

void CheckAgainstBatch(const NumericalWindowState& state, const std::vector<double>& ref_values,
                       const std::deque<double>& window_deque) {
  const std::vector<double> window(window_deque.begin(), window_deque.end());
  const NumericalReference& ref = state.reference();
  const KsResult ks = KsTwoSample(ref_values, window);
  const DriftOutcome ks_out = state.Evaluate(DriftTest::kKs);
  EXPECT_EQ(ks_out.statistic, ks.statistic);
  EXPECT_EQ(ks_out.p_value, std::optional<double>(ks.p_value));
  const DriftOutcome split = FinishKs(state.PrepareKs());
  EXPECT_EQ(split.statistic, ks_out.statistic);
  EXPECT_EQ(split.p_value, ks_out.p_value);
  const std::vector<double> counts = BinCounts(ref, window);
  EXPECT_TRUE(
      StatisticNear(state.Evaluate(DriftTest::kPsi).statistic, Psi(ref.bin_counts(), counts)));
  EXPECT_TRUE(StatisticNear(state.Evaluate(DriftTest::kJensenShannon).statistic,
                            JensenShannonDistance(ref.bin_counts(), counts)));
  EXPECT_TRUE(StatisticNear(state.Evaluate(DriftTest::kWasserstein).statistic,
                            NormedWassersteinDistance(ref_values, window)));

  std::vector<double> sorted = window;
  std::sort(sorted.begin(), sorted.end());
  const WindowStats s = state.Summary();
  EXPECT_EQ(s.count, sorted.size());
  EXPECT_EQ(s.min, sorted.front());
  EXPECT_EQ(s.max, sorted.back());
  const size_t n = sorted.size();
  const double median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  EXPECT_EQ(s.median, median);
  double sum = 0.0;
  for (const double v : sorted) sum += v;
  EXPECT_NEAR(s.mean, sum / static_cast<double>(n), 1e-12 * (1.0 + std::abs(s.mean)));
  EXPECT_TRUE(StatisticNear(s.stddev, PopulationStddev(window), 1e-10));
  const auto out_of_range = static_cast<size_t>(std::count_if(
      window.begin(), window.end(), [&](double v) { return v < ref.min() || v > ref.max(); }));
  EXPECT_EQ(s.out_of_reference_range, out_of_range);
}

void RunSlidingWindow(bool ties, size_t ref_size, size_t window_size, size_t events,
                      size_t check_every, uint64_t seed) {
  Stream stream(seed);
  std::vector<double> ref_values;
  for (size_t i = 0; i < ref_size; ++i) ref_values.push_back(stream.Value(ties, 0.0));
  const auto ref = NumericalReference::Build(ref_values, 10);
  NumericalWindowState state(ref);
  std::deque<double> window;
  for (size_t i = 0; i < events; ++i) {
    // Drift slowly upwards so that the window leaves the reference range.
    const double shift = 3.0 * static_cast<double>(i) / static_cast<double>(events);
    const double v = stream.Value(ties, shift);
    state.Add(v);
    window.push_back(v);
    if (window.size() > window_size) {
      state.Remove(window.front());
      window.pop_front();
    }
    ASSERT_EQ(state.size(), window.size());
    if (i % check_every == check_every - 1) {
      SCOPED_TRACE(Name("event ", i));
      CheckAgainstBatch(state, ref_values, window);
    }
  }
  // Drain completely, then refill.
  while (!window.empty()) {
    state.Remove(window.front());
    window.pop_front();
  }
  EXPECT_EQ(state.size(), 0u);
  EXPECT_EQ(state.Evaluate(DriftTest::kKs).p_value, std::optional<double>(1.0));
  state.Add(ref_values[0]);
  window.push_back(ref_values[0]);
  CheckAgainstBatch(state, ref_values, window);
}

TEST(NumericalStreamingTest, SlidingWindowWithTiesMatchesBatch) {
  RunSlidingWindow(/*ties=*/true, 500, 300, 3000, 97, 11);
}

TEST(NumericalStreamingTest, SlidingWindowContinuousMatchesBatch) {
  RunSlidingWindow(/*ties=*/false, 800, 250, 2500, 101, 12);
}

TEST(NumericalStreamingTest, LargeWindowExercisesChunkSplitsAndMerges) {
  // Several thousand values with heavy ties span many chunks; equal values cross chunk borders.
  RunSlidingWindow(/*ties=*/true, 2000, 6000, 20000, 2500, 13);
  RunSlidingWindow(/*ties=*/false, 3000, 5000, 15000, 3001, 14);
}

TEST(NumericalStreamingTest, RemovingAbsentValueChangesNothing) {
  const auto ref = NumericalReference::Build({1.0, 2.0, 3.0}, 10);
  NumericalWindowState state(ref);
  state.Add(2.0);
  state.Remove(5.0);
  state.Remove(std::numeric_limits<double>::quiet_NaN());
  state.Add(std::numeric_limits<double>::infinity());
  EXPECT_EQ(state.size(), 1u);
  EXPECT_EQ(state.Summary().median, 2.0);
}

TEST(NumericalStreamingTest, PerValueMemoryIsSmall) {
  const auto ref = NumericalReference::Build({0.0, 1.0}, 10);
  NumericalWindowState state(ref);
  Stream stream(99);
  std::deque<double> window;
  constexpr size_t kWindow = 100000;
  for (size_t i = 0; i < 3 * kWindow; ++i) {
    const double v = stream.Uniform();
    state.Add(v);
    window.push_back(v);
    if (window.size() > kWindow) {
      state.Remove(window.front());
      window.pop_front();
    }
  }
  const double per_value =
      static_cast<double>(state.ValueMemoryBytes()) / static_cast<double>(kWindow);
  RecordProperty("bytes_per_value", std::to_string(per_value));
  EXPECT_LE(per_value, 17.0);
}

TEST(NumericalStreamingTest, DegenerateInputsAreFinite) {
  // Constant equal samples: KS D = 0, p = 1; single PSI bin.
  const auto constant = NumericalReference::Build(std::vector<double>(50, 2.5), 10);
  EXPECT_EQ(constant->num_bins(), 1u);
  EXPECT_EQ(constant->stddev(), 0.0);
  NumericalWindowState same(constant);
  for (int i = 0; i < 5; ++i) same.Add(2.5);
  const DriftOutcome ks = same.Evaluate(DriftTest::kKs);
  EXPECT_EQ(ks.statistic, 0.0);
  EXPECT_EQ(ks.p_value, std::optional<double>(1.0));
  EXPECT_EQ(same.Evaluate(DriftTest::kPsi).statistic, 0.0);
  EXPECT_EQ(same.Evaluate(DriftTest::kWasserstein).statistic, 0.0);
  // Constant reference, different window: Wasserstein divides by the 0.001 floor.
  NumericalWindowState other(constant);
  other.Add(3.5);
  EXPECT_DOUBLE_EQ(other.Evaluate(DriftTest::kWasserstein).statistic, 1000.0);
  EXPECT_EQ(other.Evaluate(DriftTest::kKs).statistic, 1.0);
  EXPECT_EQ(other.Summary().out_of_reference_range, 1u);
  // Unsupported test and empty sides are neutral.
  EXPECT_EQ(other.Evaluate(DriftTest::kChi2).p_value, std::optional<double>(1.0));
  EXPECT_EQ(other.Evaluate(DriftTest::kChi2).statistic, 0.0);
  const auto empty = NumericalReference::Build({std::numeric_limits<double>::quiet_NaN()}, 10);
  EXPECT_EQ(empty->size(), 0u);
  NumericalWindowState no_ref(empty);
  no_ref.Add(1.0);
  for (const DriftTest t :
       {DriftTest::kKs, DriftTest::kPsi, DriftTest::kWasserstein, DriftTest::kJensenShannon}) {
    const DriftOutcome o = no_ref.Evaluate(t);
    EXPECT_EQ(o.statistic, 0.0);
    EXPECT_EQ(o.p_value.has_value(), HasPValue(t));
  }
  EXPECT_EQ(no_ref.Summary().out_of_reference_range, 0u);
  EXPECT_EQ(FinishKs(no_ref.PrepareKs()).p_value, std::optional<double>(1.0));
  NumericalWindowState empty_window(constant);
  EXPECT_EQ(empty_window.Evaluate(DriftTest::kPsi).statistic, 0.0);
  EXPECT_EQ(empty_window.Summary().count, 0u);
  // psi_bins < 1 behaves as a single bin.
  EXPECT_EQ(NumericalReference::Build({1.0, 2.0, 3.0}, 0)->num_bins(), 1u);
}

TEST(CategoricalReferenceTest, TopCategoriesTiesAndUnknowns) {
  const auto ref = CategoricalReference::Build(
      {{"b", 5}, {"a", 5}, {"c", 9}, {"d", 1}, {"e", 0}, {"a", 1}, {"f", -3}}, 2);
  ASSERT_EQ(ref->num_buckets(), 3u);
  EXPECT_EQ(ref->BucketName(0), "c");
  EXPECT_EQ(ref->BucketName(1), "a");  // a: 6 after merging the repeated name.
  EXPECT_EQ(ref->BucketName(2), CategoricalReference::kOtherBucket);
  EXPECT_EQ(ref->size(), 21u);
  EXPECT_EQ(ref->BucketOf("c"), 0u);
  EXPECT_EQ(ref->BucketOf("b"), 2u);
  EXPECT_EQ(ref->BucketOf("zzz"), 2u);
  EXPECT_TRUE(ref->IsKnown("b"));
  EXPECT_TRUE(ref->IsKnown("d"));
  EXPECT_FALSE(ref->IsKnown("e"));
  EXPECT_FALSE(ref->IsKnown("zzz"));
  const std::vector<double> counts(ref->bucket_counts().begin(), ref->bucket_counts().end());
  EXPECT_EQ(counts, (std::vector<double>{9, 6, 6}));
  // Equal counts are ordered by name.
  const auto tied = CategoricalReference::Build({{"y", 3}, {"x", 3}, {"z", 3}}, 2);
  EXPECT_EQ(tied->BucketName(0), "x");
  EXPECT_EQ(tied->BucketName(1), "y");
  EXPECT_EQ(tied->BucketOf("z"), tied->other_bucket());
  const auto none = CategoricalReference::Build({{"x", 3}}, 0);
  EXPECT_EQ(none->num_buckets(), 1u);
  EXPECT_TRUE(none->IsKnown("x"));
}

TEST(CategoricalDriftTest, MatchesScipyChi2Examples) {
  // statistics.md examples (also in chi2.json): [[10,10,20],[20,20,20]] and [[12,3],[17,16]].
  const auto fixture = LoadFixture("chi2.json")["homogeneity"];
  ASSERT_GE(fixture.size(), 2u);
  for (size_t k = 0; k < 2; ++k) {
    const auto& c = fixture[k];
    const std::vector<double> ref_counts = Doubles(c["reference"]);
    const std::vector<double> win_counts = Doubles(c["window"]);
    std::vector<std::pair<std::string, int64_t>> counts;
    for (size_t i = 0; i < ref_counts.size(); ++i) {
      counts.emplace_back(Name("cat", i), static_cast<int64_t>(ref_counts[i]));
    }
    const auto ref = CategoricalReference::Build(counts, 50);
    CategoricalWindowState state(ref);
    for (size_t i = 0; i < win_counts.size(); ++i) {
      for (int j = 0; j < static_cast<int>(win_counts[i]); ++j) {
        state.Add(ref->BucketOf(Name("cat", i)));
      }
    }
    const DriftOutcome out = state.Evaluate(DriftTest::kChi2);
    EXPECT_TRUE(StatisticNear(out.statistic, c["statistic"].get<double>()));
    EXPECT_TRUE(PValueNear(*out.p_value, c["p_value"].get<double>()));
  }
}

TEST(CategoricalDriftTest, SlidingWindowMatchesBatch) {
  std::vector<std::pair<std::string, int64_t>> counts;
  for (int i = 0; i < 12; ++i) counts.emplace_back(Name("c", static_cast<uint64_t>(i)), 10 + 7 * i);
  const auto ref = CategoricalReference::Build(counts, 8);
  CategoricalWindowState state(ref);
  Stream stream(5);
  std::deque<size_t> window;
  for (size_t i = 0; i < 4000; ++i) {
    // Categories c0..c14: c12..c14 were never seen in the reference.
    const std::string name = Name("c", stream.Next() % (i < 2000 ? 12 : 15));
    const size_t bucket = ref->BucketOf(name);
    state.Add(bucket);
    window.push_back(bucket);
    if (window.size() > 400) {
      state.Remove(window.front());
      window.pop_front();
    }
    if (i % 211 == 0) {
      std::vector<double> expected(ref->num_buckets(), 0.0);
      for (const size_t b : window) expected[b] += 1.0;
      const std::vector<double> actual(state.counts().begin(), state.counts().end());
      ASSERT_EQ(actual, expected);
      const Chi2Result chi2 = Chi2Homogeneity(ref->bucket_counts(), expected);
      const DriftOutcome out = state.Evaluate(DriftTest::kChi2);
      EXPECT_EQ(out.statistic, chi2.statistic);
      EXPECT_EQ(out.p_value, std::optional<double>(chi2.p_value));
      EXPECT_EQ(state.Evaluate(DriftTest::kPsi).statistic, Psi(ref->bucket_counts(), expected));
      EXPECT_EQ(state.Evaluate(DriftTest::kJensenShannon).statistic,
                JensenShannonDistance(ref->bucket_counts(), expected));
    }
  }
}

TEST(CategoricalDriftTest, DegenerateInputsAreFinite) {
  const auto single = CategoricalReference::Build({{"only", 10}}, 5);
  CategoricalWindowState state(single);
  state.Add(single->BucketOf("only"));
  DriftOutcome chi2 = state.Evaluate(DriftTest::kChi2);
  EXPECT_EQ(chi2.statistic, 0.0);
  EXPECT_EQ(chi2.p_value, std::optional<double>(1.0));
  EXPECT_EQ(state.Evaluate(DriftTest::kPsi).statistic, 0.0);
  EXPECT_EQ(state.Evaluate(DriftTest::kJensenShannon).statistic, 0.0);
  // All window values unseen: two populated columns, finite large statistics.
  CategoricalWindowState unseen(single);
  unseen.Add(single->BucketOf("new"));
  unseen.Add(999);  // Out-of-range bucket counts as other.
  chi2 = unseen.Evaluate(DriftTest::kChi2);
  EXPECT_TRUE(std::isfinite(chi2.statistic));
  EXPECT_GT(chi2.statistic, 0.0);
  EXPECT_TRUE(std::isfinite(unseen.Evaluate(DriftTest::kPsi).statistic));
  EXPECT_EQ(unseen.counts()[single->other_bucket()], 2);
  unseen.Remove(0);  // Empty bucket: no change.
  EXPECT_EQ(unseen.size(), 2u);
  EXPECT_EQ(unseen.Evaluate(DriftTest::kKs).p_value, std::optional<double>(1.0));
  const auto empty = CategoricalReference::Build({}, 5);
  CategoricalWindowState no_ref(empty);
  no_ref.Add(0);
  EXPECT_EQ(no_ref.Evaluate(DriftTest::kChi2).statistic, 0.0);
}

}  // namespace
}  // namespace modelmon::detectors
