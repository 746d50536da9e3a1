#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "alerts/rule_engine.h"

namespace modelmon::alerts {
namespace {

// Replays the random observation streams of tests/alerts/fixtures/rule_engine_reference.json
// (written by generate_rule_engine_reference.py, an independent reference model of the rule
// semantics) and checks every transition, the firing and active counts and the drop counter.

Labels ToLabels(const nlohmann::json& j) { return j.get<Labels>(); }

Rule ToRule(const nlohmann::json& j) {
  Rule rule;
  rule.name = j.at("name").get<std::string>();
  rule.metric = j.at("metric").get<std::string>();
  rule.matchers = ToLabels(j.at("matchers"));
  const auto op = ParseOp(j.at("op").get<std::string>());
  EXPECT_TRUE(op.has_value());
  rule.op = op.value_or(Op::kLess);
  rule.threshold = j.at("threshold").get<double>();
  if (!j.at("clear_threshold").is_null()) {
    rule.clear_threshold = j.at("clear_threshold").get<double>();
  }
  rule.for_duration = std::chrono::milliseconds(j.at("for_ms").get<int64_t>());
  rule.min_samples = j.at("min_samples").get<int64_t>();
  rule.severity = j.at("severity").get<std::string>();
  return rule;
}

std::string Name(State s) { return std::string(StateName(s)); }

TEST(RuleEngineReferenceTest, MatchesReferenceModelOnRandomStreams) {
  std::ifstream in(std::string(MODELMON_SOURCE_DIR) +
                   "/tests/alerts/fixtures/rule_engine_reference.json");
  ASSERT_TRUE(in.good());
  const nlohmann::json doc = nlohmann::json::parse(in);
  ASSERT_EQ(doc.at("scenarios").size(), 4u);
  size_t total_transitions = 0;
  for (const nlohmann::json& scenario : doc.at("scenarios")) {
    std::vector<Rule> rules;
    for (const nlohmann::json& r : scenario.at("rules")) rules.push_back(ToRule(r));
    std::vector<Labels> label_sets;
    for (const nlohmann::json& l : scenario.at("label_sets")) label_sets.push_back(ToLabels(l));
    RuleEngine engine(std::move(rules), scenario.at("cap").get<size_t>());

    size_t step_index = 0;
    for (const nlohmann::json& step : scenario.at("steps")) {
      SCOPED_TRACE("step " + std::to_string(step_index++));
      std::vector<Observation> observations;
      for (const nlohmann::json& o : step.at("observations")) {
        Observation obs;
        obs.labels = label_sets.at(o.at(0).get<size_t>());
        if (o.at(1).is_string()) {
          obs.value = std::numeric_limits<double>::quiet_NaN();
        } else if (!o.at(1).is_null()) {
          obs.value = o.at(1).get<double>();
        }
        obs.samples = o.at(2).get<int64_t>();
        observations.push_back(std::move(obs));
      }
      const TimePoint now =
          TimePoint{} + std::chrono::milliseconds(step.at("now_ms").get<int64_t>());
      const auto got = engine.Evaluate(step.at("metric").get<std::string>(), observations, now);
      const nlohmann::json& want = step.at("transitions");
      ASSERT_EQ(got.size(), want.size());
      for (size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i].alert.rule_index, want[i].at("rule").get<size_t>());
        EXPECT_EQ(got[i].alert.labels, ToLabels(want[i].at("labels")));
        EXPECT_EQ(Name(got[i].from), want[i].at("from").get<std::string>());
        EXPECT_EQ(Name(got[i].to), want[i].at("to").get<std::string>());
        EXPECT_EQ(got[i].alert.last_value, want[i].at("value").get<double>());
        EXPECT_EQ(got[i].at, now);
      }
      total_transitions += got.size();
      EXPECT_EQ(engine.firing(), step.at("firing").get<size_t>());
      EXPECT_EQ(engine.size(), step.at("active").get<size_t>());
      EXPECT_EQ(engine.Active().size(), engine.size());
      EXPECT_EQ(engine.dropped(), step.at("dropped").get<int64_t>());
    }
  }
  EXPECT_GT(total_transitions, 400u);  // The fixture exercises the engine.
}

}  // namespace
}  // namespace modelmon::alerts
