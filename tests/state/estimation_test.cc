#include "state/estimation.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
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

// |actual - expected| <= max(1e-9 |expected|, 1e-12).
::testing::AssertionResult Close(double expected, double actual) {
  const double tolerance = std::fmax(1e-9 * std::fabs(expected), 1e-12);
  if (std::fabs(actual - expected) <= tolerance) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "expected " << expected << ", got " << actual;
}

nlohmann::json LoadFixture(const std::string& name) {
  std::ifstream in(std::string(MODELMON_FIXTURE_DIR) + "/estimation/" + name);
  if (!in) ADD_FAILURE() << "cannot open " << name;
  return nlohmann::json::parse(in);
}

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

ModelConfig BinaryModel(size_t window) {
  ModelConfig m;
  m.name = "m";
  m.task = Task::kBinaryClassification;
  m.classes = {"0", "1"};
  m.positive_class = "1";
  m.features = {{"x", FeatureType::kNumerical, {}, {}}};
  m.window.size = window;
  m.reference.file = "unused.csv";
  m.drift.monitor_prediction = false;
  m.drift.min_samples = 30;
  m.performance.window_size = window;
  m.performance.estimation.enabled = true;
  return m;
}

// A model state with its reference loaded from a CSV body through the reference reader.
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
  void Add(const std::vector<double>& x, const std::vector<double>& scores,
           const std::vector<int32_t>& predicted, const std::string& id_prefix = "") {
    std::vector<ingest::PredictionEvent> events;
    for (size_t i = 0; i < scores.size(); ++i) {
      ingest::PredictionEvent e;
      e.columns.resize(schema_->columns().size());
      e.columns[0].kind = ingest::Value::Kind::kNumber;
      e.columns[0].number = x.empty() ? 0.0 : x[i];
      e.predicted_class = predicted[i];
      e.score = scores[i];
      if (!id_prefix.empty()) e.id = id_prefix + std::to_string(i);
      events.push_back(std::move(e));
    }
    state_.AddPredictions(events);
  }
  void Label(const std::vector<int32_t>& labels, const std::string& id_prefix) {
    std::vector<ingest::GroundTruthEvent> events;
    for (size_t i = 0; i < labels.size(); ++i) {
      ingest::GroundTruthEvent g;
      g.id = id_prefix + std::to_string(i);
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

const EstimatedMetric* Find(const ModelStatus& s, const std::string& metric) {
  if (!s.estimation) return nullptr;
  for (const EstimatedMetric& m : s.estimation->metrics) {
    if (m.metric == metric) return &m;
  }
  return nullptr;
}

// The fixtures of gen_estimation_fixtures.py (its Python CBPE over scikit-learn's
// IsotonicRegression), through the reference reader, the state's window and its evaluation.
TEST(EstimationStateTest, EstimatesEqualThePythonImplementationThroughTheStatePath) {
  const nlohmann::json cases = LoadFixture("cbpe_binary.json")["cases"];
  ASSERT_FALSE(cases.empty());
  size_t checked = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const auto scores = c["scores"].get<std::vector<double>>();
    const auto labels = c["labels"].get<std::vector<int32_t>>();
    const auto predicted = c["predicted"].get<std::vector<int32_t>>();
    std::string csv = "x,prediction,score,label\n";
    for (size_t i = 0; i < scores.size(); ++i) {
      csv += "0," + std::to_string(predicted[i]) + "," + Num(scores[i]) + "," +
             std::to_string(labels[i]) + "\n";
    }
    for (const auto& w : c["windows"]) {
      const auto ws = w["scores"].get<std::vector<double>>();
      const auto wp = w["predicted"].get<std::vector<int32_t>>();
      Harness h(BinaryModel(ws.size()));
      ASSERT_EQ(h.LoadCsv(csv), "");
      h.Add({}, ws, wp);
      const ModelStatus s = h.Evaluate();
      ASSERT_TRUE(s.estimation);
      if (c["name"] == "one_class") {
        // One class in the reference: calibration is skipped, estimation still runs.
        EXPECT_EQ(s.estimation->status, "ok");
      }
      ASSERT_EQ(s.estimation->status, "ok") << s.estimation->reason;
      EXPECT_EQ(s.estimation->samples, ws.size());
      const auto& x = w["estimate"];
      const auto& comp = c["components"];
      for (const char* name : kEstimatedMetrics) {
        SCOPED_TRACE(name);
        const EstimatedMetric* m = Find(s, name);
        ASSERT_NE(m, nullptr);
        if (x[name].is_null()) {
          EXPECT_FALSE(m->value);
          continue;
        }
        ASSERT_TRUE(m->value);
        EXPECT_TRUE(Close(x[name].get<double>(), *m->value));
        if (comp[name].is_null()) continue;
        // SE = std / sqrt(n f) from the fixture's components; band = estimate -/+ 3 SE.
        const double se = comp[name][0].get<double>() /
                          std::sqrt(static_cast<double>(ws.size()) * comp[name][1].get<double>());
        ASSERT_TRUE(m->lower && m->upper);
        EXPECT_TRUE(Close(x[name].get<double>() - 3 * se, *m->lower));
        EXPECT_TRUE(Close(x[name].get<double>() + 3 * se, *m->upper));
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 20u);
}

TEST(EstimationStateTest, PublishesEstimateBandAndErrorOnceLabelsArrive) {
  SplitMix64 rng(7);
  auto uniform = [&] { return static_cast<double>(rng.Next() >> 11) * 0x1.0p-53; };
  std::string csv = "x,prediction,score,label\n";
  for (int i = 0; i < 1000; ++i) {
    const double p = uniform();
    csv +=
        "0," + std::to_string(p >= 0.5) + "," + Num(p) + "," + std::to_string(uniform() < p) + "\n";
  }
  Harness h(BinaryModel(200));
  ASSERT_EQ(h.LoadCsv(csv), "");
  std::vector<double> scores;
  std::vector<int32_t> predicted, labels;
  for (int i = 0; i < 200; ++i) {
    scores.push_back(uniform());
    predicted.push_back(scores.back() >= 0.5);
    labels.push_back(uniform() < scores.back());
  }
  h.Add({}, scores, predicted, "id");
  ModelStatus s = h.Evaluate();
  ASSERT_EQ(s.estimation->status, "ok");
  const std::string before = h.Metrics();
  EXPECT_NE(before.find("modelmon_estimated_performance{metric=\"accuracy\",model=\"m\"}"),
            std::string::npos)
      << before;
  EXPECT_NE(before.find("modelmon_estimated_performance_band{bound=\"lower\",metric=\"f1\""),
            std::string::npos);
  EXPECT_NE(before.find("modelmon_estimated_performance_threshold{bound=\"upper\""),
            std::string::npos);
  EXPECT_EQ(before.find("modelmon_estimation_error{"), std::string::npos);
  EXPECT_FALSE(Find(s, "accuracy")->error);

  h.Label(labels, "id");
  s = h.Evaluate();
  const EstimatedMetric* acc = Find(s, "accuracy");
  ASSERT_TRUE(acc->realized && acc->error && acc->estimated_on_joined);
  EXPECT_EQ(acc->joined_samples, 200u);
  // Every window event was joined: the estimate over the joined pairs is the window's.
  EXPECT_DOUBLE_EQ(*acc->estimated_on_joined, *acc->value);
  EXPECT_DOUBLE_EQ(*acc->error, *acc->value - *acc->realized);
  // The realized accuracy equals the performance window's (scikit-learn-tested) accuracy.
  ASSERT_FALSE(s.performance.empty());
  EXPECT_DOUBLE_EQ(*acc->realized, s.performance[0].classification->accuracy);
  EXPECT_NE(h.Metrics().find("modelmon_estimation_error{metric=\"accuracy\",model=\"m\"}"),
            std::string::npos);
}

TEST(EstimationStateTest, UnlabelledReferenceIsUnavailableWithAReason) {
  Harness h(BinaryModel(50));
  ASSERT_EQ(h.LoadCsv("x,prediction,score\n0,1,0.9\n0,0,0.2\n"), "");
  h.Add({}, std::vector<double>(40, 0.7), std::vector<int32_t>(40, 1));
  const ModelStatus s = h.Evaluate();
  ASSERT_TRUE(s.estimation);
  EXPECT_EQ(s.estimation->status, "unavailable");
  EXPECT_NE(s.estimation->reason.find("label"), std::string::npos);
  EXPECT_EQ(h.Metrics().find("modelmon_estimated_performance{"), std::string::npos);
}

TEST(EstimationStateTest, FewScoredEventsAreInsufficientData) {
  Harness h(BinaryModel(50));
  ASSERT_EQ(h.LoadCsv("x,prediction,score,label\n0,1,0.9,1\n0,0,0.2,0\n0,1,0.6,0\n"), "");
  h.Add({}, std::vector<double>(10, 0.7), std::vector<int32_t>(10, 1));
  EXPECT_EQ(h.Evaluate().estimation->status, "insufficient_data");
}

// Seeded harness: a calibrated score model p = sigmoid(2x). Under covariate shift (x moves, the
// label model stays) the realized accuracy lies inside the estimate's band in at least 95% of
// windows; under concept shift (labels follow sigmoid(-2x)) it leaves the band. The full table
// over more runs is in docs/estimation.md (bench/estimation_harness).
TEST(EstimationStateTest, BandCoversRealizedUnderCovariateShiftAndNotUnderConceptShift) {
  SplitMix64 rng(2024);
  auto uniform = [&] { return (static_cast<double>(rng.Next() >> 11) + 0.5) * 0x1.0p-53; };
  auto normal = [&] {
    return std::sqrt(-2 * std::log(uniform())) * std::cos(2 * 3.141592653589793 * uniform());
  };
  auto sigmoid = [](double z) { return 1 / (1 + std::exp(-z)); };
  std::string csv = "x,prediction,score,label\n";
  for (int i = 0; i < 2000; ++i) {
    const double x = normal(), p = sigmoid(2 * x);
    csv += Num(x) + "," + std::to_string(p >= 0.5) + "," + Num(p) + "," +
           std::to_string(uniform() < p) + "\n";
  }
  constexpr int kRuns = 40;
  constexpr int kWindow = 500;
  int covered_covariate = 0, left_concept = 0;
  for (int run = 0; run < kRuns; ++run) {
    for (bool concept_shift : {false, true}) {
      Harness h(BinaryModel(kWindow));
      ASSERT_EQ(h.LoadCsv(csv), "");
      std::vector<double> x, scores;
      std::vector<int32_t> predicted, labels;
      for (int i = 0; i < kWindow; ++i) {
        x.push_back(normal() * 0.8 + 0.7);  // Covariate shift in both scenarios.
        scores.push_back(sigmoid(2 * x.back()));
        predicted.push_back(scores.back() >= 0.5);
        const double truth = concept_shift ? sigmoid(-2 * x.back()) : scores.back();
        labels.push_back(uniform() < truth);
      }
      h.Add(x, scores, predicted, "r");
      h.Label(labels, "r");
      const ModelStatus s = h.Evaluate();
      const EstimatedMetric* acc = Find(s, "accuracy");
      ASSERT_TRUE(acc && acc->realized && acc->lower && acc->upper);
      const bool inside = *acc->realized >= *acc->lower && *acc->realized <= *acc->upper;
      if (!concept_shift && inside) ++covered_covariate;
      if (concept_shift && !inside) ++left_concept;
    }
  }
  EXPECT_GE(covered_covariate, static_cast<int>(0.95 * kRuns));
  EXPECT_EQ(left_concept, kRuns);
}

}  // namespace
}  // namespace modelmon::state
