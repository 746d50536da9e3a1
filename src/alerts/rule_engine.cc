#include "alerts/rule_engine.h"

#include <cmath>
#include <stdexcept>
#include <utility>

namespace modelmon::alerts {
namespace {

bool Matches(const Labels& matchers, const Labels& labels) {
  for (const auto& [key, wanted] : matchers) {
    const auto it = labels.find(key);
    if (it == labels.end()) return false;
    if (wanted != "*" && it->second != wanted) return false;
  }
  return true;
}

void Validate(const Rule& rule) {
  const std::string where = "alert rule '" + rule.name + "': ";
  if (rule.name.empty()) throw std::invalid_argument("alert rule with an empty name");
  if (rule.metric.empty()) throw std::invalid_argument(where + "empty metric");
  if (std::isnan(rule.threshold)) throw std::invalid_argument(where + "threshold is NaN");
  if (rule.clear_threshold) {
    const double clear = *rule.clear_threshold;
    if (std::isnan(clear)) throw std::invalid_argument(where + "clear_threshold is NaN");
    const bool below = rule.op == Op::kLess || rule.op == Op::kLessEqual;
    if (below ? clear < rule.threshold : clear > rule.threshold) {
      throw std::invalid_argument(where + "clear_threshold is on the firing side of threshold");
    }
  }
  if (rule.for_duration.count() < 0) throw std::invalid_argument(where + "negative for_duration");
  if (rule.min_samples < 0) throw std::invalid_argument(where + "negative min_samples");
}

}  // namespace

std::optional<Op> ParseOp(std::string_view text) {
  if (text == "<") return Op::kLess;
  if (text == "<=") return Op::kLessEqual;
  if (text == ">") return Op::kGreater;
  if (text == ">=") return Op::kGreaterEqual;
  return std::nullopt;
}

std::string_view OpSymbol(Op op) {
  switch (op) {
    case Op::kLess:
      return "<";
    case Op::kLessEqual:
      return "<=";
    case Op::kGreater:
      return ">";
    case Op::kGreaterEqual:
      return ">=";
  }
  return "?";
}

bool Compare(double value, Op op, double threshold) {
  switch (op) {
    case Op::kLess:
      return value < threshold;
    case Op::kLessEqual:
      return value <= threshold;
    case Op::kGreater:
      return value > threshold;
    case Op::kGreaterEqual:
      return value >= threshold;
  }
  return false;
}

std::string_view StateName(State state) {
  switch (state) {
    case State::kInactive:
      return "inactive";
    case State::kPending:
      return "pending";
    case State::kFiring:
      return "firing";
  }
  return "?";
}

RuleEngine::RuleEngine(std::vector<Rule> rules, size_t max_instances_per_rule)
    : rules_(std::move(rules)), max_instances_per_rule_(max_instances_per_rule) {
  if (max_instances_per_rule_ == 0) {
    throw std::invalid_argument("alert rules: max_instances_per_rule must be positive");
  }
  states_.resize(rules_.size());
  for (size_t i = 0; i < rules_.size(); ++i) {
    Validate(rules_[i]);
    states_[i].clear_threshold = rules_[i].clear_threshold.value_or(rules_[i].threshold);
  }
}

Labels RuleEngine::InstanceLabels(const Rule& rule, const Labels& observed) const {
  Labels labels = observed;
  labels["alertname"] = rule.name;
  if (!rule.severity.empty()) labels["severity"] = rule.severity;
  return labels;
}

std::vector<Transition> RuleEngine::Evaluate(const std::string& metric,
                                             const std::vector<Observation>& observations,
                                             TimePoint now) {
  ++round_;
  std::vector<Transition> out;
  for (size_t i = 0; i < rules_.size(); ++i) {
    if (rules_[i].metric == metric) EvaluateRule(i, observations, now, out);
  }
  return out;
}

void RuleEngine::EvaluateRule(size_t index, const std::vector<Observation>& observations,
                              TimePoint now, std::vector<Transition>& out) {
  const Rule& rule = rules_[index];
  RuleState& state = states_[index];
  const auto emit = [&out, now](const AlertInstance& alert, State from) {
    out.push_back(Transition{alert, from, alert.state, now});
  };

  for (const Observation& observation : observations) {
    if (!Matches(rule.matchers, observation.labels)) continue;
    const bool has_data = observation.value.has_value() && !std::isnan(*observation.value) &&
                          observation.samples >= rule.min_samples;
    const double value = has_data ? *observation.value : 0.0;
    Labels labels = InstanceLabels(rule, observation.labels);
    const auto it = state.instances.find(labels);

    if (it == state.instances.end()) {
      if (!has_data || !Compare(value, rule.op, rule.threshold)) continue;
      if (state.instances.size() >= max_instances_per_rule_) {
        ++dropped_;
        continue;
      }
      Tracked tracked;
      AlertInstance& alert = tracked.alert;
      alert.rule = rule.name;
      alert.rule_index = index;
      alert.labels = labels;
      alert.annotations = rule.annotations;
      alert.active_since = now;
      alert.last_value = value;
      if (rule.for_duration.count() == 0) {
        alert.state = State::kFiring;
        alert.fired_at = now;
        ++firing_;
      } else {
        alert.state = State::kPending;
      }
      tracked.seen_round = round_;
      emit(alert, State::kInactive);
      state.instances.emplace(std::move(labels), std::move(tracked));
      continue;
    }

    Tracked& tracked = it->second;
    tracked.seen_round = round_;
    AlertInstance& alert = tracked.alert;
    if (alert.state == State::kPending) {
      if (has_data) alert.last_value = value;
      if (!has_data || !Compare(value, rule.op, rule.threshold)) {
        alert.state = State::kInactive;
        emit(alert, State::kPending);
        state.instances.erase(it);
      } else if (now - alert.active_since >= rule.for_duration) {
        alert.state = State::kFiring;
        alert.fired_at = now;
        ++firing_;
        emit(alert, State::kPending);
      }
      continue;
    }
    // Firing: no data keeps it firing; only a real value past clear_threshold resolves it.
    if (!has_data) continue;
    alert.last_value = value;
    if (!Compare(value, rule.op, state.clear_threshold)) {
      alert.state = State::kInactive;
      --firing_;
      emit(alert, State::kFiring);
      state.instances.erase(it);
    }
  }

  // Pending instances whose label set was not published this round have no data.
  for (auto it = state.instances.begin(); it != state.instances.end();) {
    AlertInstance& alert = it->second.alert;
    if (it->second.seen_round != round_ && alert.state == State::kPending) {
      alert.state = State::kInactive;
      emit(alert, State::kPending);
      it = state.instances.erase(it);
    } else {
      ++it;
    }
  }
}

bool RuleEngine::Restore(size_t rule_index, AlertInstance instance) {
  if (rule_index >= rules_.size() || instance.state == State::kInactive) return false;
  RuleState& state = states_[rule_index];
  if (state.instances.size() >= max_instances_per_rule_ ||
      state.instances.count(instance.labels) != 0) {
    return false;
  }
  instance.rule = rules_[rule_index].name;
  instance.rule_index = rule_index;
  instance.annotations = rules_[rule_index].annotations;
  if (instance.state == State::kFiring) ++firing_;
  Tracked tracked;
  tracked.seen_round = round_;
  Labels key = instance.labels;
  tracked.alert = std::move(instance);
  state.instances.emplace(std::move(key), std::move(tracked));
  return true;
}

std::vector<AlertInstance> RuleEngine::Active() const {
  std::vector<AlertInstance> active;
  active.reserve(size());
  for (const RuleState& state : states_) {
    for (const auto& [labels, tracked] : state.instances) active.push_back(tracked.alert);
  }
  return active;
}

size_t RuleEngine::size() const {
  size_t total = 0;
  for (const RuleState& state : states_) total += state.instances.size();
  return total;
}

}  // namespace modelmon::alerts
