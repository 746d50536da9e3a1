#include "alerts/rule_engine.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace modelmon::alerts {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

TimePoint At(int64_t s) { return TimePoint{} + seconds(s); }

Observation Obs(Labels labels, std::optional<double> value, int64_t samples = 1000) {
  return Observation{std::move(labels), value, samples};
}

// "drift_p_value < 0.01" for every feature of model "fraud", resolving above 0.05.
Rule DriftRule(milliseconds for_duration = minutes(5)) {
  Rule rule;
  rule.name = "FeatureDrift";
  rule.metric = "drift_p_value";
  rule.matchers = {{"model", "fraud"}, {"feature", "*"}};
  rule.op = Op::kLess;
  rule.threshold = 0.01;
  rule.clear_threshold = 0.05;
  rule.for_duration = for_duration;
  rule.min_samples = 100;
  rule.severity = "warning";
  rule.annotations = {{"summary", "feature drifted"}};
  return rule;
}

// "error_rate > 0.2", resolving at or below 0.1.
Rule ErrorRule(milliseconds for_duration = milliseconds(0)) {
  Rule rule;
  rule.name = "HighErrorRate";
  rule.metric = "error_rate";
  rule.op = Op::kGreater;
  rule.threshold = 0.2;
  rule.clear_threshold = 0.1;
  rule.for_duration = for_duration;
  return rule;
}

const Labels kAge = {{"model", "fraud"}, {"feature", "age"}};
const Labels kModel = {{"model", "m"}};

TEST(ParseOpTest, ParsesTheFourOperatorsOnly) {
  EXPECT_EQ(ParseOp("<"), Op::kLess);
  EXPECT_EQ(ParseOp("<="), Op::kLessEqual);
  EXPECT_EQ(ParseOp(">"), Op::kGreater);
  EXPECT_EQ(ParseOp(">="), Op::kGreaterEqual);
  for (const char* bad : {"", "=", "==", " <", "< ", "=>", "<>", "lt"}) {
    EXPECT_EQ(ParseOp(bad), std::nullopt) << bad;
  }
  for (Op op : {Op::kLess, Op::kLessEqual, Op::kGreater, Op::kGreaterEqual}) {
    EXPECT_EQ(ParseOp(OpSymbol(op)), op);
  }
}

TEST(RuleEngineTest, InactiveToPendingToFiringAfterForDuration) {
  RuleEngine engine({DriftRule(minutes(5))});
  auto t = engine.Evaluate("drift_p_value", {Obs(kAge, 0.001)}, At(0));
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].from, State::kInactive);
  EXPECT_EQ(t[0].to, State::kPending);
  EXPECT_EQ(t[0].alert.state, State::kPending);
  EXPECT_EQ(t[0].alert.rule, "FeatureDrift");
  EXPECT_EQ(t[0].alert.labels, (Labels{{"alertname", "FeatureDrift"},
                                       {"feature", "age"},
                                       {"model", "fraud"},
                                       {"severity", "warning"}}));
  EXPECT_EQ(t[0].alert.annotations, (Labels{{"summary", "feature drifted"}}));
  EXPECT_EQ(t[0].alert.active_since, At(0));
  EXPECT_EQ(engine.firing(), 0u);

  EXPECT_TRUE(engine.Evaluate("drift_p_value", {Obs(kAge, 0.002)}, At(299)).empty());
  ASSERT_EQ(engine.Active().size(), 1u);
  EXPECT_EQ(engine.Active()[0].state, State::kPending);
  EXPECT_EQ(engine.Active()[0].last_value, 0.002);

  t = engine.Evaluate("drift_p_value", {Obs(kAge, 0.003)}, At(300));
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].from, State::kPending);
  EXPECT_EQ(t[0].to, State::kFiring);
  EXPECT_EQ(t[0].at, At(300));
  EXPECT_EQ(t[0].alert.active_since, At(0));
  EXPECT_EQ(t[0].alert.fired_at, At(300));
  EXPECT_EQ(t[0].alert.last_value, 0.003);
  EXPECT_EQ(engine.firing(), 1u);

  EXPECT_TRUE(engine.Evaluate("drift_p_value", {Obs(kAge, 0.001)}, At(900)).empty());
  EXPECT_EQ(engine.firing(), 1u);
}

TEST(RuleEngineTest, ZeroForDurationFiresOnFirstBreach) {
  RuleEngine engine({ErrorRule()});
  const auto t = engine.Evaluate("error_rate", {Obs(kModel, 0.5)}, At(7));
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].from, State::kInactive);
  EXPECT_EQ(t[0].to, State::kFiring);
  EXPECT_EQ(t[0].alert.active_since, At(7));
  EXPECT_EQ(t[0].alert.fired_at, At(7));
  EXPECT_EQ(engine.firing(), 1u);
}

TEST(RuleEngineTest, PendingThatRecoversBeforeForNeverFires) {
  RuleEngine engine({DriftRule(minutes(5))});
  for (int64_t cycle = 0; cycle < 20; ++cycle) {
    const int64_t base = cycle * 240;
    auto t = engine.Evaluate("drift_p_value", {Obs(kAge, 0.001)}, At(base));
    ASSERT_EQ(t.size(), 1u);
    EXPECT_EQ(t[0].to, State::kPending);
    EXPECT_EQ(t[0].alert.active_since, At(base));  // The for clock restarts each time.
    EXPECT_TRUE(engine.Evaluate("drift_p_value", {Obs(kAge, 0.009)}, At(base + 120)).empty());
    // Recovers (0.02 is not < 0.01) before 5 minutes: back to inactive and dropped.
    t = engine.Evaluate("drift_p_value", {Obs(kAge, 0.02)}, At(base + 200));
    ASSERT_EQ(t.size(), 1u);
    EXPECT_EQ(t[0].from, State::kPending);
    EXPECT_EQ(t[0].to, State::kInactive);
    EXPECT_EQ(t[0].alert.last_value, 0.02);
    EXPECT_TRUE(engine.Active().empty());
    EXPECT_EQ(engine.firing(), 0u);
  }
}

TEST(RuleEngineTest, FiringResolvesOnlyPastClearThreshold) {
  RuleEngine engine({ErrorRule()});
  ASSERT_EQ(engine.Evaluate("error_rate", {Obs(kModel, 0.3)}, At(0)).size(), 1u);
  // Below the threshold but still above the clear threshold: keeps firing.
  for (double v : {0.2, 0.15, 0.1000001}) {
    EXPECT_TRUE(engine.Evaluate("error_rate", {Obs(kModel, v)}, At(1)).empty()) << v;
  }
  ASSERT_EQ(engine.Active().size(), 1u);
  EXPECT_EQ(engine.Active()[0].state, State::kFiring);
  EXPECT_EQ(engine.Active()[0].last_value, 0.1000001);
  // 0.1 > 0.1 no longer holds: resolved.
  const auto t = engine.Evaluate("error_rate", {Obs(kModel, 0.1)}, At(2));
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].from, State::kFiring);
  EXPECT_EQ(t[0].to, State::kInactive);
  EXPECT_EQ(t[0].alert.fired_at, At(0));
  EXPECT_EQ(t[0].alert.last_value, 0.1);
  EXPECT_EQ(engine.firing(), 0u);
  EXPECT_TRUE(engine.Active().empty());
}

TEST(RuleEngineTest, WithoutClearThresholdResolvesAtThreshold) {
  Rule rule = ErrorRule();
  rule.clear_threshold.reset();
  RuleEngine engine({rule});
  ASSERT_EQ(engine.Evaluate("error_rate", {Obs(kModel, 0.3)}, At(0)).size(), 1u);
  EXPECT_TRUE(engine.Evaluate("error_rate", {Obs(kModel, 0.2000001)}, At(1)).empty());
  const auto t = engine.Evaluate("error_rate", {Obs(kModel, 0.2)}, At(2));
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].to, State::kInactive);
}

// Counts transitions into and out of firing.
struct Counts {
  int fired = 0;
  int resolved = 0;
  int other = 0;
};
void Tally(const std::vector<Transition>& ts, Counts& c) {
  for (const Transition& t : ts) {
    if (t.to == State::kFiring) {
      ++c.fired;
    } else if (t.from == State::kFiring) {
      ++c.resolved;
    } else {
      ++c.other;
    }
  }
}

TEST(RuleEngineTest, FlappingInputFiresOnceAndResolvesOncePerHysteresisWindow) {
  RuleEngine engine({ErrorRule()});
  int64_t now = 0;
  for (int window = 0; window < 3; ++window) {
    Counts c;
    // Oscillates around the threshold 0.2, always inside the clear band (0.1, ...).
    for (int step = 0; step < 1000; ++step) {
      const double v = (step % 2 == 0) ? 0.21 : 0.19 - 0.08 * ((step % 7) / 6.0);
      Tally(engine.Evaluate("error_rate", {Obs(kModel, v)}, At(now++)), c);
    }
    EXPECT_EQ(c.fired, 1);
    EXPECT_EQ(c.resolved, 0);
    EXPECT_EQ(c.other, 0);
    EXPECT_EQ(engine.firing(), 1u);
    Tally(engine.Evaluate("error_rate", {Obs(kModel, 0.05)}, At(now++)), c);
    EXPECT_EQ(c.resolved, 1);
    EXPECT_EQ(engine.firing(), 0u);
    // Below the threshold after resolution: nothing, however long it oscillates there.
    for (int step = 0; step < 100; ++step) {
      Tally(engine.Evaluate("error_rate", {Obs(kModel, step % 2 ? 0.05 : 0.2)}, At(now++)), c);
    }
    EXPECT_EQ(c.fired, 1);
    EXPECT_EQ(c.resolved, 1);
    EXPECT_EQ(c.other, 0);
  }
}

TEST(RuleEngineTest, FlappingAfterForDurationDoesNotRefire) {
  RuleEngine engine({ErrorRule(seconds(60))});
  Counts c;
  int64_t now = 0;
  for (int step = 0; step <= 6; ++step, now += 10) {
    Tally(engine.Evaluate("error_rate", {Obs(kModel, 0.25)}, At(now)), c);
  }
  EXPECT_EQ(c.fired, 1);
  EXPECT_EQ(c.other, 1);  // inactive -> pending
  for (int step = 0; step < 500; ++step, now += 10) {
    Tally(engine.Evaluate("error_rate", {Obs(kModel, step % 2 ? 0.25 : 0.15)}, At(now)), c);
  }
  EXPECT_EQ(c.fired, 1);
  EXPECT_EQ(c.resolved, 0);
  EXPECT_EQ(c.other, 1);
  Tally(engine.Evaluate("error_rate", {Obs(kModel, 0.0)}, At(now)), c);
  EXPECT_EQ(c.resolved, 1);
}

TEST(RuleEngineTest, MissingDataNeverCreatesAnAlert) {
  RuleEngine engine({DriftRule(milliseconds(0))});
  const std::vector<std::vector<Observation>> rounds = {
      {Obs(kAge, std::nullopt)},
      {Obs(kAge, std::numeric_limits<double>::quiet_NaN())},
      {Obs(kAge, 0.0, 99)},  // below min_samples
      {},
  };
  for (size_t i = 0; i < rounds.size(); ++i) {
    EXPECT_TRUE(engine.Evaluate("drift_p_value", rounds[i], At(static_cast<int64_t>(i))).empty());
  }
  EXPECT_TRUE(engine.Active().empty());
  // Exactly min_samples is enough.
  EXPECT_EQ(engine.Evaluate("drift_p_value", {Obs(kAge, 0.0, 100)}, At(9)).size(), 1u);
}

TEST(RuleEngineTest, MissingDataReturnsPendingToInactive) {
  const std::vector<std::vector<Observation>> gaps = {
      {Obs(kAge, std::nullopt)},
      {Obs(kAge, std::numeric_limits<double>::quiet_NaN())},
      {Obs(kAge, 0.001, 10)},
      {},
      {Obs({{"model", "fraud"}, {"feature", "income"}}, 0.5)},
  };
  for (const auto& gap : gaps) {
    RuleEngine engine({DriftRule(minutes(5))});
    ASSERT_EQ(engine.Evaluate("drift_p_value", {Obs(kAge, 0.001)}, At(0)).size(), 1u);
    const auto t = engine.Evaluate("drift_p_value", gap, At(60));
    ASSERT_EQ(t.size(), 1u);
    EXPECT_EQ(t[0].from, State::kPending);
    EXPECT_EQ(t[0].to, State::kInactive);
    EXPECT_EQ(t[0].alert.last_value, 0.001);
    EXPECT_TRUE(engine.Active().empty());
    // Data comes back: pending again from scratch, firing only 5 minutes later.
    ASSERT_EQ(engine.Evaluate("drift_p_value", {Obs(kAge, 0.001)}, At(120)).size(), 1u);
    EXPECT_TRUE(engine.Evaluate("drift_p_value", {Obs(kAge, 0.001)}, At(400)).empty());
    EXPECT_EQ(engine.Evaluate("drift_p_value", {Obs(kAge, 0.001)}, At(420))[0].to, State::kFiring);
  }
}

TEST(RuleEngineTest, MissingDataKeepsFiringUntilARealValueClears) {
  RuleEngine engine({DriftRule(milliseconds(0))});
  ASSERT_EQ(engine.Evaluate("drift_p_value", {Obs(kAge, 0.004)}, At(0)).size(), 1u);
  const std::vector<std::vector<Observation>> gaps = {
      {Obs(kAge, std::nullopt)},
      {Obs(kAge, std::numeric_limits<double>::quiet_NaN())},
      {Obs(kAge, 0.9, 99)},  // a clearing value without enough samples does not count
      {},
  };
  int64_t now = 1;
  for (int repeat = 0; repeat < 10; ++repeat) {
    for (const auto& gap : gaps) {
      EXPECT_TRUE(engine.Evaluate("drift_p_value", gap, At(now++)).empty());
    }
  }
  ASSERT_EQ(engine.Active().size(), 1u);
  EXPECT_EQ(engine.Active()[0].state, State::kFiring);
  EXPECT_EQ(engine.Active()[0].last_value, 0.004);
  EXPECT_EQ(engine.firing(), 1u);
  const auto t = engine.Evaluate("drift_p_value", {Obs(kAge, 0.05, 100)}, At(now));
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].from, State::kFiring);
  EXPECT_EQ(t[0].to, State::kInactive);
  EXPECT_EQ(engine.firing(), 0u);
}

TEST(RuleEngineTest, WildcardMatchersCreateOneInstancePerLabelSet) {
  RuleEngine engine({DriftRule(milliseconds(0))});
  const std::vector<Observation> obs = {
      Obs({{"model", "fraud"}, {"feature", "age"}}, 0.001),
      Obs({{"model", "fraud"}, {"feature", "income"}}, 0.002),
      Obs({{"model", "fraud"}, {"feature", "zip"}}, 0.5),    // no breach
      Obs({{"model", "churn"}, {"feature", "age"}}, 0.001),  // other model
      Obs({{"model", "fraud"}}, 0.001),                      // no feature label
      Obs({{"model", "fraud"}, {"feature", "age"}, {"version", "v2"}}, 0.003),
  };
  const auto t = engine.Evaluate("drift_p_value", obs, At(0));
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0].alert.labels.at("feature"), "age");
  EXPECT_EQ(t[1].alert.labels.at("feature"), "income");
  EXPECT_EQ(t[2].alert.labels.at("version"), "v2");
  EXPECT_EQ(engine.firing(), 3u);
  const auto active = engine.Active();
  ASSERT_EQ(active.size(), 3u);
  for (const AlertInstance& a : active) {
    EXPECT_EQ(a.labels.at("alertname"), "FeatureDrift");
    EXPECT_EQ(a.labels.at("severity"), "warning");
    EXPECT_EQ(a.labels.at("model"), "fraud");
  }
  // Instances are independent: clearing income leaves the other two firing.
  const auto cleared = engine.Evaluate(
      "drift_p_value", {Obs({{"model", "fraud"}, {"feature", "income"}}, 0.9), obs[0], obs[5]},
      At(1));
  ASSERT_EQ(cleared.size(), 1u);
  EXPECT_EQ(cleared[0].alert.labels.at("feature"), "income");
  EXPECT_EQ(engine.firing(), 2u);
}

TEST(RuleEngineTest, RuleLabelsOverrideObservationLabels) {
  RuleEngine engine({DriftRule(milliseconds(0))});
  const auto t = engine.Evaluate(
      "drift_p_value",
      {Obs({{"model", "fraud"}, {"feature", "a"}, {"alertname", "x"}, {"severity", "y"}}, 0.0)},
      At(0));
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].alert.labels.at("alertname"), "FeatureDrift");
  EXPECT_EQ(t[0].alert.labels.at("severity"), "warning");
}

struct OpCase {
  Op op;
  double value;
  bool fires;
};

TEST(RuleEngineTest, OperatorsCompareAgainstTheThreshold) {
  const std::vector<OpCase> cases = {
      {Op::kLess, 0.4, true},         {Op::kLess, 0.5, false},
      {Op::kLess, 0.6, false},        {Op::kLessEqual, 0.4, true},
      {Op::kLessEqual, 0.5, true},    {Op::kLessEqual, 0.6, false},
      {Op::kGreater, 0.4, false},     {Op::kGreater, 0.5, false},
      {Op::kGreater, 0.6, true},      {Op::kGreaterEqual, 0.4, false},
      {Op::kGreaterEqual, 0.5, true}, {Op::kGreaterEqual, 0.6, true},
      {Op::kGreater, HUGE_VAL, true}, {Op::kLess, -HUGE_VAL, true},
  };
  for (const OpCase& c : cases) {
    Rule rule = ErrorRule();
    rule.op = c.op;
    rule.threshold = 0.5;
    rule.clear_threshold.reset();
    RuleEngine engine({rule});
    const auto t = engine.Evaluate("error_rate", {Obs(kModel, c.value)}, At(0));
    EXPECT_EQ(t.size(), c.fires ? 1u : 0u) << OpSymbol(c.op) << " " << c.value;
    EXPECT_EQ(engine.firing(), c.fires ? 1u : 0u);
    EXPECT_EQ(Compare(c.value, c.op, 0.5), c.fires);
    EXPECT_FALSE(Compare(std::nan(""), c.op, 0.5));
  }
}

TEST(RuleEngineTest, OrEqualOperatorsResolveStrictlyPastClearThreshold) {
  Rule rule = ErrorRule();
  rule.op = Op::kGreaterEqual;  // fires at >= 0.2, stays firing while >= 0.1
  RuleEngine engine({rule});
  ASSERT_EQ(engine.Evaluate("error_rate", {Obs(kModel, 0.2)}, At(0)).size(), 1u);
  EXPECT_TRUE(engine.Evaluate("error_rate", {Obs(kModel, 0.1)}, At(1)).empty());
  EXPECT_EQ(engine.Evaluate("error_rate", {Obs(kModel, 0.0999)}, At(2)).size(), 1u);
  EXPECT_EQ(engine.firing(), 0u);
}

TEST(RuleEngineTest, InstanceCapBoundsMemoryAndCountsDrops) {
  RuleEngine engine({ErrorRule(), ErrorRule()}, 3);
  std::vector<Observation> obs;
  for (const char* m : {"a", "b", "c", "d", "e"}) obs.push_back(Obs({{"model", m}}, 0.9));
  auto t = engine.Evaluate("error_rate", obs, At(0));
  EXPECT_EQ(t.size(), 6u);  // three per rule
  EXPECT_EQ(engine.size(), 6u);
  EXPECT_EQ(engine.firing(), 6u);
  EXPECT_EQ(engine.dropped(), 4);
  obs[0].value = 0.0;  // "a" resolves, freeing one slot per rule for "d"
  t = engine.Evaluate("error_rate", obs, At(1));
  EXPECT_EQ(t.size(), 4u);
  EXPECT_EQ(engine.dropped(), 6);
  EXPECT_EQ(engine.size(), 6u);
  for (const AlertInstance& a : engine.Active()) {
    EXPECT_NE(a.labels.at("model"), "a");
    EXPECT_NE(a.labels.at("model"), "e");
  }
}

TEST(RuleEngineTest, OtherMetricsLeaveInstancesAlone) {
  RuleEngine engine({DriftRule(minutes(5)), ErrorRule()});
  ASSERT_EQ(engine.Evaluate("drift_p_value", {Obs(kAge, 0.001)}, At(0)).size(), 1u);
  ASSERT_EQ(engine.Evaluate("error_rate", {Obs(kModel, 0.9)}, At(1)).size(), 1u);
  EXPECT_TRUE(engine.Evaluate("unrelated", {Obs(kAge, 0.0)}, At(2)).empty());
  EXPECT_TRUE(engine.Evaluate("error_rate", {}, At(3)).empty());  // firing: kept
  const auto active = engine.Active();
  ASSERT_EQ(active.size(), 2u);
  EXPECT_EQ(active[0].rule, "FeatureDrift");  // ordered by rule
  EXPECT_EQ(active[0].rule_index, 0u);
  EXPECT_EQ(active[0].state, State::kPending);
  EXPECT_EQ(active[1].rule, "HighErrorRate");
  EXPECT_EQ(active[1].state, State::kFiring);
  EXPECT_EQ(engine.firing(), 1u);
}

TEST(RuleEngineTest, RejectsInvalidRules) {
  const auto expect_invalid = [](Rule rule) {
    EXPECT_THROW(RuleEngine({std::move(rule)}), std::invalid_argument);
  };
  Rule r = ErrorRule();
  r.clear_threshold = 0.3;  // on the firing side of "> 0.2"
  expect_invalid(r);
  r = DriftRule();
  r.clear_threshold = 0.005;  // on the firing side of "< 0.01"
  expect_invalid(r);
  r = ErrorRule();
  r.threshold = std::nan("");
  expect_invalid(r);
  r = ErrorRule();
  r.clear_threshold = std::nan("");
  expect_invalid(r);
  r = ErrorRule();
  r.for_duration = milliseconds(-1);
  expect_invalid(r);
  r = ErrorRule();
  r.min_samples = -1;
  expect_invalid(r);
  r = ErrorRule();
  r.name.clear();
  expect_invalid(r);
  r = ErrorRule();
  r.metric.clear();
  expect_invalid(r);
  EXPECT_THROW(RuleEngine({ErrorRule()}, 0), std::invalid_argument);
  r = ErrorRule();
  r.clear_threshold = 0.2;  // equal to threshold is allowed
  EXPECT_NO_THROW(RuleEngine({r}));
}

}  // namespace
}  // namespace modelmon::alerts
