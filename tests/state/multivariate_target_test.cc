#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/fake_clock.h"
#include "common/splitmix64.h"
#include "ingest/event_parser.h"
#include "metrics/metrics.h"
#include "state/model_state.h"
#include "state/reference_data.h"

namespace modelmon::state {
namespace {

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

class Rng {
 public:
  explicit Rng(uint64_t seed) : rng_(seed) {}
  double Uniform() { return (static_cast<double>(rng_.Next() >> 11) + 0.5) * 0x1.0p-53; }
  double Normal() {
    return std::sqrt(-2 * std::log(Uniform())) * std::cos(2 * 3.141592653589793 * Uniform());
  }

 private:
  SplitMix64 rng_;
};

ModelConfig TwoFeatureModel() {
  ModelConfig m;
  m.name = "m";
  m.task = Task::kBinaryClassification;
  m.classes = {"0", "1"};
  m.positive_class = "1";
  m.features = {{"a", FeatureType::kNumerical, {}, {}}, {"b", FeatureType::kNumerical, {}, {}}};
  m.window.size = 500;
  m.reference.file = "unused.csv";
  m.drift.numerical_tests = {"ks"};
  m.drift.monitor_prediction = false;
  m.drift.multivariate.enabled = true;
  m.drift.target.enabled = true;
  m.performance.window_size = 500;
  return m;
}

class Harness {
 public:
  explicit Harness(const ModelConfig& config)
      : schema_(std::make_shared<ingest::ModelSchema>(config)),
        parser_({schema_}),
        metrics_(registry_),
        state_(schema_, &metrics_, &clock_) {}

  std::string LoadCsv(const std::string& body) {
    ReferenceLoad load = ParseReference(body, ReferenceFormat::kCsv, parser_, 0);
    if (!load.data) return load.error;
    state_.SetReference(std::move(*load.data), "file");
    return "";
  }
  // Events with features a, b, prediction `predicted` and id prefix + index.
  void Add(const std::vector<std::pair<double, double>>& rows,
           const std::vector<int32_t>& predicted, const std::string& prefix) {
    std::vector<ingest::PredictionEvent> events;
    for (size_t i = 0; i < rows.size(); ++i) {
      ingest::PredictionEvent e;
      e.columns.resize(2);
      e.columns[0] = {ingest::Value::Kind::kNumber, rows[i].first, ""};
      e.columns[1] = {ingest::Value::Kind::kNumber, rows[i].second, ""};
      e.predicted_class = predicted[i];
      e.id = prefix + std::to_string(i);
      events.push_back(std::move(e));
    }
    state_.AddPredictions(events);
  }
  void Label(const std::vector<int32_t>& labels, const std::string& prefix) {
    std::vector<ingest::GroundTruthEvent> events;
    for (size_t i = 0; i < labels.size(); ++i) {
      ingest::GroundTruthEvent g;
      g.id = prefix + std::to_string(i);
      g.label_class = labels[i];
      events.push_back(g);
    }
    state_.AddGroundTruth(events);
  }
  ModelStatus Evaluate() {
    state_.Evaluate();
    return state_.Status();
  }
  std::string Metrics() const { return registry_.Serialize(); }

 private:
  testing::FakeClock clock_;
  std::shared_ptr<const ingest::ModelSchema> schema_;
  ingest::EventParser parser_;
  metrics::Registry registry_;
  DaemonMetrics metrics_;
  ModelState state_;
};

// (a, b) standard normal with correlation rho: both marginals N(0, 1) whatever rho.
std::vector<std::pair<double, double>> Correlated(Rng& rng, size_t n, double rho) {
  std::vector<std::pair<double, double>> rows;
  for (size_t i = 0; i < n; ++i) {
    const double a = rng.Normal();
    rows.emplace_back(a, rho * a + std::sqrt(1 - rho * rho) * rng.Normal());
  }
  return rows;
}

std::string ReferenceCsv(const std::vector<std::pair<double, double>>& rows,
                         const std::vector<int32_t>& labels) {
  std::string csv = "a,b,prediction,label\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    csv += Num(rows[i].first);
    csv += ',';
    csv += Num(rows[i].second);
    csv += ",1,";
    csv += labels[i] ? '1' : '0';
    csv += '\n';
  }
  return csv;
}

// The correlation between a and b flips from +0.9 to negative while both marginals stay those of
// the reference:
// every univariate test stays quiet and the reconstruction error alarms.
TEST(MultivariateStateTest, CorrelationFlipAlarmsWhileUnivariateTestsStayQuiet) {
  Rng rng(11);
  const auto reference = Correlated(rng, 5000, 0.9);
  Harness h(TwoFeatureModel());
  ASSERT_EQ(h.LoadCsv(ReferenceCsv(reference, std::vector<int32_t>(reference.size(), 1))), "");

  h.Add(Correlated(rng, 500, 0.9), std::vector<int32_t>(500, 1), "same");
  ModelStatus s = h.Evaluate();
  ASSERT_TRUE(s.multivariate);
  ASSERT_EQ(s.multivariate->status, "ok") << s.multivariate->reason;
  EXPECT_EQ(s.multivariate->components, 1u);  // Correlated pair: one component holds 95%.
  EXPECT_EQ(s.multivariate->chunk_size, 500u);
  EXPECT_FALSE(s.multivariate->detected) << s.multivariate->error;

  // The flipped window: 500 reference values of a and of b, paired in opposite rank order, so
  // that each marginal is a subsample of the reference's and the correlation is negative.
  std::vector<double> as, bs;
  for (size_t i = 0; i < 500; ++i) {
    as.push_back(reference[i * 10].first);
    bs.push_back(reference[i * 10 + 5].second);
  }
  std::sort(as.begin(), as.end());
  std::sort(bs.begin(), bs.end(), std::greater<>());
  std::vector<std::pair<double, double>> flipped;
  for (size_t i = 0; i < 500; ++i) flipped.emplace_back(as[i], bs[i]);
  h.Add(flipped, std::vector<int32_t>(500, 1), "flip");
  s = h.Evaluate();
  ASSERT_EQ(s.multivariate->status, "ok");
  EXPECT_TRUE(s.multivariate->detected) << s.multivariate->error;
  EXPECT_GT(s.multivariate->error, s.multivariate->upper_threshold);
  ASSERT_EQ(s.columns.size(), 2u);
  for (const ColumnResult& c : s.columns) {
    EXPECT_EQ(c.status, "ok");
    EXPECT_FALSE(c.drifted) << c.name << " p=" << c.tests[0].p_value.value_or(-1);
  }
  EXPECT_FALSE(s.dataset_drift);
  const std::string text = h.Metrics();
  EXPECT_NE(text.find("modelmon_multivariate_drift_detected{model=\"m\"} 1"), std::string::npos)
      << text;
  EXPECT_NE(
      text.find("modelmon_multivariate_reconstruction_threshold{bound=\"upper\",model=\"m\"}"),
      std::string::npos);
}

TEST(MultivariateStateTest, MissingValuesAreImputedAndSmallWindowsAreInsufficient) {
  Rng rng(5);
  auto reference = Correlated(rng, 1000, 0.5);
  std::string csv = ReferenceCsv(reference, std::vector<int32_t>(reference.size(), 0));
  csv += ",,1,0\n";  // A row with both features missing.
  Harness h(TwoFeatureModel());
  ASSERT_EQ(h.LoadCsv(csv), "");
  h.Add(Correlated(rng, 10, 0.5), std::vector<int32_t>(10, 1), "w");
  ModelStatus s = h.Evaluate();
  ASSERT_TRUE(s.multivariate);
  EXPECT_EQ(s.multivariate->status, "insufficient_data");
  h.Add(Correlated(rng, 100, 0.5), std::vector<int32_t>(100, 1), "v");
  s = h.Evaluate();
  EXPECT_EQ(s.multivariate->status, "ok");
  // A reference of 1001 rows and a window of 500: chunks of 500.
  EXPECT_EQ(s.multivariate->chunk_size, 500u);
}

// Joined labels with the reference's class shares are quiet; a shift of the shares is flagged by
// the same test and threshold as a categorical feature (chi2 at 0.05), and so is a prediction
// distribution that differs from the labels'.
TEST(TargetDriftStateTest, LabelSharesAgainstTheReferenceAndPredictionsAgainstLabels) {
  Rng rng(3);
  const auto rows = Correlated(rng, 800, 0.0);
  std::vector<int32_t> ref_labels;
  for (size_t i = 0; i < rows.size(); ++i) ref_labels.push_back(rng.Uniform() < 0.5);
  ModelConfig config = TwoFeatureModel();
  config.drift.categorical_tests = {"chi2"};
  Harness h(config);
  ASSERT_EQ(h.LoadCsv(ReferenceCsv(rows, ref_labels)), "");

  std::vector<int32_t> labels, predicted;
  for (int i = 0; i < 400; ++i) {
    labels.push_back(i % 2);
    predicted.push_back(i % 2);
  }
  h.Add(Correlated(rng, 400, 0.0), predicted, "a");
  h.Label(labels, "a");
  ModelStatus s = h.Evaluate();
  ASSERT_EQ(s.target.size(), 2u);
  EXPECT_EQ(s.target[0].name, kLabelFeature);
  EXPECT_EQ(s.target[0].status, "ok");
  ASSERT_EQ(s.target[0].tests.size(), 1u);
  EXPECT_EQ(s.target[0].tests[0].test, "chi2");
  EXPECT_FALSE(s.target[0].drifted);
  EXPECT_EQ(s.target[1].name, kPredictionVsLabelFeature);
  EXPECT_FALSE(s.target[1].drifted);
  EXPECT_DOUBLE_EQ(*s.target[1].tests[0].p_value, 1.0);  // Identical distributions.

  // 90% positives against a 50/50 reference; predictions all negative.
  labels.clear();
  predicted.clear();
  for (int i = 0; i < 500; ++i) {
    labels.push_back(i % 10 != 0);
    predicted.push_back(0);
  }
  h.Add(Correlated(rng, 500, 0.0), predicted, "b");
  h.Label(labels, "b");
  s = h.Evaluate();
  ASSERT_EQ(s.target.size(), 2u);
  EXPECT_TRUE(s.target[0].drifted);
  EXPECT_LT(*s.target[0].tests[0].p_value, 1e-10);
  EXPECT_TRUE(s.target[1].drifted);
  EXPECT_EQ(s.features_evaluated, 2u);  // Target columns do not count as features.
  const std::string text = h.Metrics();
  EXPECT_NE(text.find("modelmon_drift_detected{feature=\"__label__\",model=\"m\",test=\"chi2\"} 1"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace modelmon::state
