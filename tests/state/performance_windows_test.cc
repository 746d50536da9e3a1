#include "state/performance_windows.h"

#include <gtest/gtest.h>

#include "metrics/metrics.h"
#include "performance/significance.h"

namespace modelmon::state {
namespace {

using std::chrono::seconds;
using TimePoint = std::chrono::steady_clock::time_point;

ModelConfig Binary(size_t window) {
  ModelConfig m;
  m.name = "m";
  m.task = Task::kBinaryClassification;
  m.classes = {"0", "1"};
  // Copies rather than literal assignments: GCC 12 at -O3 reports a false -Wrestrict on those.
  m.positive_class = m.classes[1];
  m.features = {{"x", FeatureType::kNumerical, {}, {}}};
  m.performance.window_size = window;
  m.performance.experiment_control = std::string(1, 'a');
  m.performance.experiment_challenger = std::string(1, 'b');
  return m;
}

JoinedPair Pair(int label, int predicted, double score, TimePoint at) {
  JoinedPair p;
  p.joined_at = at;
  p.classification.label = label;
  p.classification.predicted = predicted;
  p.classification.score = score;
  return p;
}

const PerformanceResult& Find(const PerformanceWindows& w, const std::string& version) {
  for (const auto& r : w.results()) {
    if (r.model_version == version) return r;
  }
  static PerformanceResult none;
  ADD_FAILURE() << "no window " << version;
  return none;
}

class PerformanceWindowsTest : public ::testing::Test {
 protected:
  explicit PerformanceWindowsTest(size_t window = 4)
      : schema_(Binary(window)), metrics_(registry_), windows_(schema_, &metrics_) {}
  ingest::ModelSchema schema_;
  metrics::Registry registry_;
  DaemonMetrics metrics_;
  PerformanceWindows windows_;
  TimePoint t0_{};
};

TEST_F(PerformanceWindowsTest, KeepsTheLastNPairsPerVersionAndOverall) {
  windows_.Add("a", Pair(1, 1, 0.9, t0_));
  windows_.Add("a", Pair(0, 1, 0.8, t0_));
  windows_.Add("b", Pair(1, 1, 0.7, t0_));
  for (int i = 0; i < 3; ++i) windows_.Add("b", Pair(0, 0, 0.1, t0_));
  windows_.Publish();
  // All versions: the last 4 of 6 pairs are b's, all correct.
  EXPECT_EQ(Find(windows_, kAllVersions).samples, 4u);
  EXPECT_DOUBLE_EQ(Find(windows_, kAllVersions).classification->accuracy, 1.0);
  EXPECT_EQ(Find(windows_, "a").samples, 2u);
  EXPECT_DOUBLE_EQ(Find(windows_, "a").classification->accuracy, 0.5);
  EXPECT_EQ(Find(windows_, "b").samples, 4u);
}

TEST_F(PerformanceWindowsTest, ExpiresByJoinTime) {
  windows_.Add("a", Pair(1, 1, 0.9, t0_));
  windows_.Add("a", Pair(0, 1, 0.8, t0_ + seconds(10)));
  windows_.ExpireBefore(t0_ + seconds(5));
  windows_.Publish();
  EXPECT_EQ(Find(windows_, "a").samples, 1u);
  EXPECT_DOUBLE_EQ(Find(windows_, "a").classification->accuracy, 0.0);
  windows_.ExpireBefore(t0_ + seconds(11));
  windows_.Publish();
  EXPECT_EQ(Find(windows_, kAllVersions).samples, 0u);
  EXPECT_FALSE(Find(windows_, kAllVersions).classification->roc_auc);
}

TEST_F(PerformanceWindowsTest, BaselineFromFirstFullWindowThenDegradation) {
  windows_.Add("a", Pair(1, 1, 0.9, t0_));
  windows_.Add("a", Pair(0, 0, 0.2, t0_));
  windows_.Add("a", Pair(1, 1, 0.8, t0_));
  windows_.Publish();
  EXPECT_TRUE(windows_.baseline().empty());  // Not full yet.
  windows_.Add("a", Pair(0, 1, 0.6, t0_));
  windows_.Publish();
  ASSERT_EQ(windows_.baseline().count("accuracy"), 1u);
  EXPECT_DOUBLE_EQ(windows_.baseline().at("accuracy"), 0.75);
  for (int i = 0; i < 4; ++i) windows_.Add("a", Pair(1, 0, 0.3, t0_));  // All wrong.
  windows_.Publish();
  EXPECT_DOUBLE_EQ(windows_.baseline().at("accuracy"), 0.75);  // Captured once.
  const std::string text = registry_.Serialize();
  EXPECT_NE(text.find("modelmon_performance_degradation{metric=\"accuracy\",model=\"m\","
                      "model_version=\"__all__\"} -0.75"),
            std::string::npos)
      << text;
}

TEST_F(PerformanceWindowsTest, ExperimentComparesAccuracyOfTheTwoVersions) {
  windows_.Publish();
  ASSERT_TRUE(windows_.experiment());
  EXPECT_FALSE(windows_.experiment()->unavailable.empty());
  windows_.Add("a", Pair(1, 1, 0.9, t0_));
  windows_.Add("a", Pair(0, 1, 0.8, t0_));
  windows_.Add("a", Pair(0, 1, 0.8, t0_));
  windows_.Add("b", Pair(1, 1, 0.9, t0_));
  windows_.Add("b", Pair(0, 0, 0.1, t0_));
  windows_.Add("b", Pair(0, 1, 0.8, t0_));
  windows_.Publish();
  const ExperimentResult& e = *windows_.experiment();
  EXPECT_TRUE(e.unavailable.empty());
  EXPECT_DOUBLE_EQ(e.difference, 2.0 / 3 - 1.0 / 3);
  ASSERT_TRUE(e.p_value);
  EXPECT_DOUBLE_EQ(*e.p_value, performance::TwoProportionZTest(1, 3, 2, 3).p_value);
}

}  // namespace
}  // namespace modelmon::state
