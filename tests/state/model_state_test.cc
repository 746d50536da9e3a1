#include "state/model_state.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/fake_clock.h"
#include "metrics/metrics.h"

namespace modelmon::state {
namespace {

using std::chrono::seconds;

ModelConfig TestModel() {
  ModelConfig m;
  m.name = "m";
  m.task = Task::kBinaryClassification;
  m.classes = {"0", "1"};
  m.positive_class = "1";
  m.features = {{"x", FeatureType::kNumerical, {}, {}}, {"c", FeatureType::kCategorical, {}, {}}};
  m.window.size = 100;
  m.window.duration = seconds(10);
  m.reference.capture = 50;
  m.drift.numerical_tests = {"ks"};
  m.drift.categorical_tests = {"chi2"};
  m.drift.min_samples = 5;
  m.max_versions = 2;
  return m;
}

ingest::PredictionEvent Event(double x, const std::string& c, const std::string& version = "v1") {
  ingest::PredictionEvent e;
  e.model_version = version;
  e.columns.resize(4);
  if (!std::isnan(x)) {
    e.columns[0].kind = ingest::Value::Kind::kNumber;
    e.columns[0].number = x;
  }
  if (!c.empty()) {
    e.columns[1].kind = ingest::Value::Kind::kCategory;
    e.columns[1].category = c;
  }
  e.columns[2].kind = ingest::Value::Kind::kCategory;
  e.columns[2].category = "1";
  e.predicted_class = 1;
  return e;
}

class ModelStateTest : public ::testing::Test {
 protected:
  ModelStateTest()
      : schema_(std::make_shared<ingest::ModelSchema>(TestModel())),
        metrics_(registry_),
        state_(schema_, &metrics_, &clock_) {}

  void Add(std::vector<ingest::PredictionEvent> events) { state_.AddPredictions(events); }

  double Sample(const std::string& line_prefix) {
    const std::string text = registry_.Serialize();
    auto pos = text.find("\n" + line_prefix);
    if (pos == std::string::npos) return -1;
    auto end = text.find('\n', pos + 1);
    const std::string line = text.substr(pos + 1, end - pos - 1);
    return std::stod(line.substr(line.rfind(' ') + 1));
  }

  testing::FakeClock clock_;
  std::shared_ptr<const ingest::ModelSchema> schema_;
  metrics::Registry registry_;
  DaemonMetrics metrics_;
  ModelState state_;
};

TEST_F(ModelStateTest, CapturesReferenceThenTracksWindow) {
  EXPECT_EQ(state_.Status().reference_state, "capturing");
  std::vector<ingest::PredictionEvent> events;
  for (int i = 0; i < 50; ++i) events.push_back(Event(i, i % 2 ? "a" : "b"));
  Add(std::move(events));
  ModelStatus s = state_.Status();
  EXPECT_EQ(s.reference_state, "ready");
  EXPECT_EQ(s.reference_rows, 50u);
  EXPECT_EQ(s.window_events, 50u);
  state_.Evaluate();
  s = state_.Status();
  ASSERT_EQ(s.columns.size(), 4u);  // x, c, __prediction__, __score__
  EXPECT_EQ(s.columns[0].status, "ok");
  ASSERT_EQ(s.columns[0].tests.size(), 1u);
  EXPECT_EQ(s.columns[0].tests[0].test, "ks");
  EXPECT_EQ(s.columns[0].tests[0].statistic, 0);  // The window is the reference.
  EXPECT_FALSE(s.columns[0].drifted);
  EXPECT_EQ(s.columns[3].status, "no_reference");  // No scores were sent.
  EXPECT_EQ(s.features_evaluated, 2u);
}

TEST_F(ModelStateTest, TimeWindowExpiresByArrival) {
  std::vector<ingest::PredictionEvent> events;
  for (int i = 0; i < 60; ++i) events.push_back(Event(i, "a"));
  Add(std::move(events));
  EXPECT_EQ(state_.Status().window_events, 60u);
  clock_.Advance(seconds(6));
  Add({Event(1, "a"), Event(2, "a")});
  clock_.Advance(seconds(5));  // The first 60 are now 11 s old, the last 2 are 5 s old.
  state_.Evaluate();
  ModelStatus s = state_.Status();
  EXPECT_EQ(s.window_events, 2u);
  EXPECT_EQ(s.columns[0].status, "insufficient_data");
  EXPECT_TRUE(s.columns[0].tests.empty());
}

TEST_F(ModelStateTest, CountWindowKeepsTheLastN) {
  std::vector<ingest::PredictionEvent> events;
  for (int i = 0; i < 250; ++i) events.push_back(Event(i, "a"));
  Add(std::move(events));
  state_.Evaluate();
  ModelStatus s = state_.Status();
  EXPECT_EQ(s.window_events, 100u);
  ASSERT_TRUE(s.columns[0].summary);
  EXPECT_EQ(s.columns[0].summary->min, 150);
  EXPECT_EQ(s.columns[0].summary->max, 249);
  EXPECT_DOUBLE_EQ(s.columns[0].out_of_range_ratio, 1.0);  // Reference was 0..49.
}

TEST_F(ModelStateTest, DataQualityCounters) {
  std::vector<ingest::PredictionEvent> events;
  for (int i = 0; i < 50; ++i) events.push_back(Event(i, "a"));
  Add(std::move(events));
  Add({Event(NAN, "a"), Event(1000, ""), Event(2, "zzz")});
  EXPECT_EQ(Sample("modelmon_feature_missing_values_total{feature=\"x\",model=\"m\"}"), 1);
  EXPECT_EQ(Sample("modelmon_feature_missing_values_total{feature=\"c\",model=\"m\"}"), 1);
  EXPECT_EQ(Sample("modelmon_feature_out_of_range_values_total{feature=\"x\",model=\"m\"}"), 1);
  EXPECT_EQ(Sample("modelmon_feature_unseen_category_values_total{feature=\"c\",model=\"m\"}"), 1);
  state_.Evaluate();
  ModelStatus s = state_.Status();
  EXPECT_DOUBLE_EQ(s.columns[0].missing_ratio, 1.0 / 53);
  EXPECT_DOUBLE_EQ(s.columns[1].unseen_ratio, 1.0 / 52);
}

TEST_F(ModelStateTest, VersionsAreCapped) {
  Add({Event(1, "a", "v1"), Event(1, "a", "v2"), Event(1, "a", "v3"), Event(1, "a", "v4")});
  EXPECT_EQ(Sample("modelmon_predictions_total{model=\"m\",model_version=\"v1\"}"), 1);
  EXPECT_EQ(Sample("modelmon_predictions_total{model=\"m\",model_version=\"v2\"}"), 1);
  EXPECT_EQ(Sample("modelmon_predictions_total{model=\"m\",model_version=\"__other__\"}"), 2);
  EXPECT_EQ(Sample("modelmon_predictions_total{model=\"m\",model_version=\"v3\"}"), -1);
}

TEST_F(ModelStateTest, PromoteAndReplaceReference) {
  std::string error;
  EXPECT_FALSE(state_.PromoteWindow(&error));
  EXPECT_THAT(error, ::testing::HasSubstr("empty"));
  std::vector<ingest::PredictionEvent> events;
  for (int i = 0; i < 20; ++i) events.push_back(Event(100 + i, "q"));
  Add(std::move(events));
  ASSERT_TRUE(state_.PromoteWindow(&error));
  state_.Evaluate();
  ModelStatus s = state_.Status();
  EXPECT_EQ(s.reference_state, "ready");
  EXPECT_EQ(s.reference_rows, 20u);
  EXPECT_EQ(s.columns[1].tests[0].statistic, 0);
  EXPECT_EQ(s.columns[1].unseen_ratio, 0);

  ReferenceData data(*schema_);
  for (int i = 0; i < 30; ++i) data.AddRow(Event(i, "a"));
  state_.SetReference(std::move(data), "upload");
  state_.Evaluate();
  s = state_.Status();
  EXPECT_EQ(s.reference_rows, 30u);
  EXPECT_TRUE(s.columns[0].drifted);  // 100..119 against 0..29.
  EXPECT_EQ(s.columns[1].unseen_ratio, 1.0);
  EXPECT_EQ(Sample("modelmon_reference_updates_total{model=\"m\",source=\"promote\"}"), 1);
}

TEST_F(ModelStateTest, FleetBinCountersFollowTheReferenceBins) {
  std::vector<ingest::PredictionEvent> events;
  for (int i = 0; i < 50; ++i) events.push_back(Event(i, i % 2 ? "a" : "b"));
  Add(std::move(events));  // Captured: x = 0..49, deciles with right-closed edges 4, 9, ..., 44.
  EXPECT_EQ(Sample("modelmon_feature_reference_share{bin=\"0\",feature=\"x\",model=\"m\"}"), 0.1);
  EXPECT_EQ(Sample("modelmon_feature_reference_share{bin=\"9\",feature=\"x\",model=\"m\"}"), 0.1);
  EXPECT_EQ(Sample("modelmon_feature_reference_share{bin=\"a\",feature=\"c\",model=\"m\"}"), 0.5);
  Add({Event(4, "a"), Event(5, "zzz"), Event(100, "b"), Event(100, ""), Event(NAN, "a")});
  EXPECT_EQ(Sample("modelmon_feature_bin_observations_total{bin=\"0\",feature=\"x\",model=\"m\"}"),
            1);
  EXPECT_EQ(Sample("modelmon_feature_bin_observations_total{bin=\"1\",feature=\"x\",model=\"m\"}"),
            1);
  EXPECT_EQ(Sample("modelmon_feature_bin_observations_total{bin=\"9\",feature=\"x\",model=\"m\"}"),
            2);
  EXPECT_EQ(Sample("modelmon_feature_bin_observations_total{bin=\"a\",feature=\"c\",model=\"m\"}"),
            2);
  EXPECT_EQ(
      Sample(
          "modelmon_feature_bin_observations_total{bin=\"__other__\",feature=\"c\",model=\"m\"}"),
      1);
}

ingest::GroundTruthEvent Label(const std::string& id, int32_t label_class) {
  ingest::GroundTruthEvent g;
  g.id = id;
  g.label_class = label_class;
  return g;
}

TEST_F(ModelStateTest, SnapshotCarriesPendingJoinsWhole) {
  ingest::PredictionEvent e = Event(1, "a", "v2");
  e.id = "p1";
  e.predicted_value = 3.5;
  e.score = 0.8;
  e.class_scores = {0.2, 0.8};
  Add({e});
  state_.AddGroundTruth({Label("g1", 0)});  // Waits for its prediction.
  clock_.Advance(seconds(2));
  const ModelSnapshot m = state_.ExportSnapshot(clock_.Now());
  ASSERT_EQ(m.pending_predictions.size(), 1u);
  const PendingPredictionSnapshot& p = m.pending_predictions[0];
  EXPECT_EQ(p.id, "p1");
  EXPECT_EQ(p.age_ns, 2'000'000'000);
  EXPECT_EQ(p.prediction.version, "v2");
  EXPECT_EQ(p.prediction.predicted_class, 1);
  EXPECT_EQ(p.prediction.predicted_value, 3.5);
  EXPECT_EQ(p.prediction.score, 0.8);
  EXPECT_THAT(p.prediction.class_scores, ::testing::ElementsAre(0.2, 0.8));
  ASSERT_EQ(m.pending_labels.size(), 1u);
  EXPECT_EQ(m.pending_labels[0].id, "g1");
  EXPECT_EQ(m.pending_labels[0].label.label_class, 0);

  // Restored into a fresh state, the prediction still joins with its ground truth.
  metrics::Registry registry;
  DaemonMetrics metrics(registry);
  ModelState restored(schema_, &metrics, &clock_);
  restored.ImportSnapshot(m, seconds(1));
  EXPECT_EQ(restored.Status().pending_predictions, 1u);
  EXPECT_EQ(restored.Status().pending_labels, 1u);
  restored.AddGroundTruth({Label("p1", 0)});
  EXPECT_EQ(restored.Status().pending_predictions, 0u);
  const ModelSnapshot after = restored.ExportSnapshot(clock_.Now());
  ASSERT_FALSE(after.performance.empty());
  const auto& [window, pairs] = after.performance.front();
  ASSERT_EQ(pairs.size(), 1u) << window;
  EXPECT_EQ(pairs[0].label, 0);
  EXPECT_EQ(pairs[0].predicted, 1);
  EXPECT_EQ(pairs[0].score, 0.8);
  EXPECT_THAT(pairs[0].class_scores, ::testing::ElementsAre(0.2, 0.8));
}

}  // namespace
}  // namespace modelmon::state
