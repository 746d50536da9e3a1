#include "state/alerting.h"

#include <gtest/gtest.h>

#include "metrics/metrics.h"

namespace modelmon::state {
namespace {

using std::chrono::seconds;

ModelStatus Status(std::optional<double> p_value, size_t samples) {
  ModelStatus s;
  s.name = "m";
  s.task = "binary_classification";
  s.window_events = samples;
  ColumnResult c;
  c.name = "x";
  c.window_samples = samples;
  if (p_value) {
    c.status = "ok";
    DriftTestResult t;
    t.test = "ks";
    t.statistic = 0.5;
    t.p_value = p_value;
    c.tests.push_back(t);
  } else {
    c.status = "insufficient_data";
  }
  s.columns.push_back(c);
  return s;
}

AlertRuleConfig DriftRule() {
  AlertRuleConfig r;
  r.name = "FeatureDrift";
  r.metric = "drift_p_value";
  r.matchers = {{"test", "ks"}};
  r.op = "<";
  r.threshold = 0.01;
  r.clear_threshold = 0.05;
  r.for_duration = seconds(30);
  r.min_samples = 50;
  return r;
}

class AlertingTest : public ::testing::Test {
 protected:
  AlertingTest() : metrics_(registry_), alerting_({DriftRule()}, &metrics_) {}
  size_t Step(std::optional<double> p, size_t samples = 100) {
    now_ += seconds(10);
    return alerting_.Evaluate({Status(p, samples)}, now_).size();
  }
  std::string Text() { return registry_.Serialize(); }

  metrics::Registry registry_;
  DaemonMetrics metrics_;
  Alerting alerting_;
  std::chrono::steady_clock::time_point now_{};
};

TEST_F(AlertingTest, PendingThenFiringThenResolvedPastTheClearThreshold) {
  EXPECT_EQ(Step(0.001), 1u);  // pending
  EXPECT_EQ(alerting_.Active()[0].state, alerts::State::kPending);
  EXPECT_NE(Text().find("modelmon_alert_state{alertname=\"FeatureDrift\",feature=\"x\","
                        "model=\"m\",severity=\"warning\",test=\"ks\"} 1"),
            std::string::npos);
  EXPECT_EQ(Step(0.001), 0u);
  EXPECT_EQ(Step(0.001), 0u);
  EXPECT_EQ(Step(0.001), 1u);  // 30 s pending: firing
  EXPECT_EQ(alerting_.Active()[0].state, alerts::State::kFiring);
  EXPECT_NE(Text().find("modelmon_alerts_firing 1"), std::string::npos);
  EXPECT_EQ(Step(0.03), 0u);          // Between threshold and clear threshold: still firing.
  EXPECT_EQ(Step(std::nullopt), 0u);  // Insufficient data does not resolve it.
  EXPECT_EQ(Step(0.2), 1u);           // Past the clear threshold: resolved.
  EXPECT_TRUE(alerting_.Active().empty());
  EXPECT_EQ(Text().find("modelmon_alert_state{"), std::string::npos);
  EXPECT_NE(Text().find("modelmon_alerts_firing 0"), std::string::npos);
}

TEST_F(AlertingTest, NoAlertBelowMinSamplesOrWithoutData) {
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(Step(0.0001, 10), 0u);
    EXPECT_EQ(Step(std::nullopt), 0u);
  }
  EXPECT_TRUE(alerting_.Active().empty());
}

TEST(ObserveTest, MapsStatusesToLabelledValues) {
  ModelStatus s = Status(0.2, 100);
  s.columns[0].missing_ratio = 0.25;
  s.features_evaluated = 1;
  s.features_drifted = 1;
  s.dataset_drift = true;
  auto obs = Observe("drift_p_value", {s});
  ASSERT_EQ(obs.size(), 1u);
  EXPECT_EQ(obs[0].labels, (alerts::Labels{{"model", "m"}, {"feature", "x"}, {"test", "ks"}}));
  EXPECT_EQ(obs[0].value, 0.2);
  EXPECT_EQ(obs[0].samples, 100);
  obs = Observe("missing_ratio", {s});
  ASSERT_EQ(obs.size(), 1u);
  EXPECT_EQ(obs[0].value, 0.25);
  obs = Observe("dataset_drift_detected", {s});
  ASSERT_EQ(obs.size(), 1u);
  EXPECT_EQ(obs[0].value, 1.0);
  EXPECT_TRUE(Observe("unseen_category_ratio", {s}).empty());  // x is numerical.
}

}  // namespace
}  // namespace modelmon::state
