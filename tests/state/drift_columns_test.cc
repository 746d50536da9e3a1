#include "state/drift_columns.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <random>
#include <string>
#include <vector>

#include "detectors/statistics.h"

namespace modelmon::state {
namespace {

using detectors::DriftTest;
using std::chrono::seconds;

constexpr size_t kWindow = 200;

ModelConfig TestModel() {
  ModelConfig m;
  m.name = "m";
  m.task = Task::kBinaryClassification;
  m.classes = {"0", "1"};
  m.positive_class = "1";
  m.features = {{"x", FeatureType::kNumerical, {"ks", "psi", "wasserstein", "jensen_shannon"}, {}},
                {"c", FeatureType::kCategorical, {"chi2", "psi", "jensen_shannon"}, {}}};
  m.window.size = kWindow;
  m.drift.monitor_prediction = false;
  m.drift.max_categories = 5;
  return m;
}

struct Row {
  double x;       // NaN: missing.
  std::string c;  // Empty: missing.
};

ingest::PredictionEvent Event(const Row& row) {
  ingest::PredictionEvent e;
  e.columns.resize(2);
  if (!std::isnan(row.x)) {
    e.columns[0].kind = ingest::Value::Kind::kNumber;
    e.columns[0].number = row.x;
  }
  if (!row.c.empty()) {
    e.columns[1].kind = ingest::Value::Kind::kCategory;
    e.columns[1].category = row.c;
  }
  return e;
}

// Drift states must equal the batch statistics of the window's contents, whether Sync() caught up
// value by value (few changes) or rebuilt the states (many), and whatever expired in between.
class DriftColumnsTest : public ::testing::Test {
 protected:
  DriftColumnsTest() : schema_(TestModel()), columns_(schema_), rng_(7) {
    ReferenceData ref(schema_);
    std::normal_distribution<double> normal(0.0, 1.0);
    for (int i = 0; i < 300; ++i) {
      // Rounded so that window values tie with reference values.
      ref.AddNumber(0, std::round(normal(rng_) * 20) / 20);
      std::string k = "k";
      k += std::to_string(i % 7);
      ref.AddCategory(1, k);
    }
    ref.set_rows(300);
    reference_x_ = ref.numerical(0);
    columns_.SetReference(ref);
  }

  Row NextRow() {
    std::normal_distribution<double> normal(0.3, 1.2);
    std::uniform_int_distribution<int> category(0, 9);  // k7..k9 are unseen.
    Row row{std::round(normal(rng_) * 20) / 20, "k"};
    row.c += std::to_string(category(rng_));
    if (next_ % 13 == 0) row.x = NAN;
    if (next_ % 17 == 0) row.c.clear();
    ++next_;
    return row;
  }

  void Add(size_t n, std::chrono::steady_clock::time_point arrival) {
    std::vector<uint8_t> flags;
    std::vector<uint32_t> bins;
    for (size_t i = 0; i < n; ++i) {
      const Row row = NextRow();
      columns_.Add(Event(row), arrival, &flags, &bins);
      window_.push_back({row, arrival});
      if (window_.size() > kWindow) window_.pop_front();
    }
  }

  void Expire(std::chrono::steady_clock::time_point cutoff) {
    columns_.ExpireBefore(cutoff);
    while (!window_.empty() && window_.front().second < cutoff) window_.pop_front();
  }

  void ExpectMatchesWindow() {
    ASSERT_FALSE(columns_.synced());
    columns_.Sync();
    ASSERT_TRUE(columns_.synced());
    ASSERT_EQ(columns_.size(), window_.size());
    std::vector<double> xs;
    for (const auto& [row, at] : window_) {
      if (!std::isnan(row.x)) xs.push_back(row.x);
    }
    if (xs.empty()) return;
    const auto ks = detectors::KsTwoSample(reference_x_, xs);
    const auto got_ks = columns_.Evaluate(0, DriftTest::kKs);
    EXPECT_DOUBLE_EQ(got_ks.statistic, ks.statistic);
    EXPECT_NEAR(*got_ks.p_value, ks.p_value, 1e-12);
    EXPECT_NEAR(columns_.Evaluate(0, DriftTest::kWasserstein).statistic,
                detectors::NormedWassersteinDistance(reference_x_, xs), 1e-12);
    const auto reference = detectors::NumericalReference::Build(reference_x_, 10);
    std::vector<double> bins(reference->num_bins(), 0.0);
    for (double x : xs) bins[reference->BinOf(x)] += 1;
    EXPECT_NEAR(columns_.Evaluate(0, DriftTest::kPsi).statistic,
                detectors::Psi(reference->bin_counts(), bins), 1e-12);
    EXPECT_NEAR(columns_.Evaluate(0, DriftTest::kJensenShannon).statistic,
                detectors::JensenShannonDistance(reference->bin_counts(), bins), 1e-12);
    const auto summary = columns_.Summary(0);
    ASSERT_TRUE(summary.has_value());
    EXPECT_EQ(summary->count, xs.size());
    EXPECT_DOUBLE_EQ(summary->min, *std::min_element(xs.begin(), xs.end()));
    EXPECT_DOUBLE_EQ(summary->max, *std::max_element(xs.begin(), xs.end()));
    // Categorical: the reference keeps k0..k4 (max_categories 5); k5..k9 share "__other__".
    std::vector<double> ref_counts(6, 0.0), window_counts(6, 0.0);
    for (size_t i = 0; i < 300; ++i) ref_counts[std::min<size_t>(i % 7, 5)] += 1;
    for (const auto& [row, at] : window_) {
      if (!row.c.empty()) window_counts[std::min<size_t>(std::stoul(row.c.substr(1)), 5)] += 1;
    }
    const auto chi2 = detectors::Chi2Homogeneity(ref_counts, window_counts);
    const auto got_chi2 = columns_.Evaluate(1, DriftTest::kChi2);
    EXPECT_NEAR(got_chi2.statistic, chi2.statistic, 1e-9);
    EXPECT_NEAR(*got_chi2.p_value, chi2.p_value, 1e-12);
    EXPECT_NEAR(columns_.Evaluate(1, DriftTest::kPsi).statistic,
                detectors::Psi(ref_counts, window_counts), 1e-12);
  }

  ingest::ModelSchema schema_;
  DriftColumns columns_;
  std::mt19937_64 rng_;
  size_t next_ = 0;
  std::vector<double> reference_x_;
  std::deque<std::pair<Row, std::chrono::steady_clock::time_point>> window_;
};

TEST_F(DriftColumnsTest, FewChangesCatchUpValueByValue) {
  const std::chrono::steady_clock::time_point t0{};
  Add(kWindow, t0);  // Fills the window: a rebuild.
  ExpectMatchesWindow();
  for (size_t n : {1u, 3u, 10u, 25u, 5u}) {  // Each below the incremental limit of 64 events.
    Add(n, t0);
    ExpectMatchesWindow();
  }
}

TEST_F(DriftColumnsTest, ManyChangesRebuild) {
  const std::chrono::steady_clock::time_point t0{};
  Add(50, t0);
  ExpectMatchesWindow();
  for (size_t n : {65u, 150u, 199u, 1000u}) {
    Add(n, t0);
    ExpectMatchesWindow();
  }
}

TEST_F(DriftColumnsTest, ExpiryOfEventsNotYetSynced) {
  const std::chrono::steady_clock::time_point t0{};
  Add(40, t0);
  ExpectMatchesWindow();
  Add(10, t0 + seconds(1));
  Add(10, t0 + seconds(2));
  Expire(t0 + seconds(2));  // Every synced event and 10 unsynced ones leave.
  ExpectMatchesWindow();
  Add(5, t0 + seconds(3));
  Expire(t0 + seconds(4));  // Everything leaves.
  Add(30, t0 + seconds(5));
  ExpectMatchesWindow();
}

}  // namespace
}  // namespace modelmon::state
