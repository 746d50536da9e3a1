#ifndef MODELMON_ALERTS_RULE_ENGINE_H_
#define MODELMON_ALERTS_RULE_ENGINE_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace modelmon::alerts {

using Labels = std::map<std::string, std::string>;
using TimePoint = std::chrono::steady_clock::time_point;

// Comparison of an observed value against a rule's threshold: the rule's condition holds when
// `value <op> threshold`.
enum class Op { kLess, kLessEqual, kGreater, kGreaterEqual };

// Parses "<", "<=", ">", ">=" (exactly, no surrounding spaces). nullopt for anything else.
std::optional<Op> ParseOp(std::string_view text);
// The inverse of ParseOp: "<", "<=", ">" or ">=".
std::string_view OpSymbol(Op op);
// True when `value <op> threshold`. False whenever either side is NaN.
bool Compare(double value, Op op, double threshold);

// A threshold alerting rule, with Prometheus "for" semantics and hysteresis on resolution.
struct Rule {
  std::string name;    // The alertname label of every instance. Must not be empty.
  std::string metric;  // The metric name that Evaluate must be called with. Must not be empty.
  // Label equality filters on observations: each key must be present in the observation's labels
  // with exactly this value, or with any value when the value is "*". Empty: every label set.
  Labels matchers;
  Op op = Op::kGreater;
  double threshold = 0.0;  // Must not be NaN.
  // A firing instance resolves only once `value <op> clear_threshold` no longer holds. Default
  // (nullopt): threshold. Must not be NaN and must not be on the firing side of threshold, i.e.
  // clear_threshold >= threshold for < and <=, clear_threshold <= threshold for > and >=.
  std::optional<double> clear_threshold;
  // How long the condition must hold (in every evaluation) before a pending instance fires.
  // Zero: an instance fires on the first evaluation whose value meets the condition. Must be >= 0.
  std::chrono::milliseconds for_duration{0};
  // Observations with fewer samples than this count as "no data". Must be >= 0.
  int64_t min_samples = 0;
  std::string severity;  // Added as the "severity" label when not empty.
  Labels annotations;    // Copied verbatim into every instance.
};

// One published value of the rule's metric for one label set.
struct Observation {
  Labels labels;
  // nullopt (or NaN): insufficient data or not published; see RuleEngine for how no data behaves.
  std::optional<double> value;
  int64_t samples = 0;  // Compared against Rule::min_samples.
};

enum class State { kInactive, kPending, kFiring };
// "inactive", "pending" or "firing".
std::string_view StateName(State state);

// One alert of one rule for one label set.
struct AlertInstance {
  std::string rule;       // Rule::name.
  size_t rule_index = 0;  // Position of the rule in the engine's rule list.
  // The observation's labels, plus "alertname" = Rule::name and "severity" = Rule::severity (when
  // not empty); these two replace any observation label of the same name.
  Labels labels;
  Labels annotations;  // Rule::annotations.
  State state = State::kInactive;
  TimePoint active_since{};  // When it became pending (or firing, when for_duration is 0).
  TimePoint fired_at{};      // When it started firing; the epoch while it has never fired.
  double last_value = 0.0;   // The last real value evaluated for this instance.
};

// A change of state of one instance at one evaluation. `alert` is the instance after the change
// (alert.state == to). Possible changes: kInactive -> kPending, kInactive -> kFiring (for_duration
// 0), kPending -> kFiring, kPending -> kInactive (the condition stopped holding, or no data), and
// kFiring -> kInactive, which is a resolution.
struct Transition {
  AlertInstance alert;
  State from = State::kInactive;
  State to = State::kInactive;
  TimePoint at{};
};

// Evaluates threshold rules over published values and tracks alert instances keyed by (rule,
// label set), Prometheus style:
//  - inactive: the condition holds -> pending (or firing directly when for_duration is 0);
//  - pending: the condition holds and now - active_since >= for_duration -> firing; the condition
//    does not hold, or there is no data -> inactive;
//  - firing: stays firing while `value <op> clear_threshold` holds, so a value oscillating between
//    threshold and clear_threshold fires once and never resolves; a value past clear_threshold
//    resolves it (-> inactive). No data never resolves a firing instance: it keeps firing, with its
//    last value, until a real value clears it (no flapping on data gaps).
// "No data" for an instance means: its label set is absent from the observations passed to
// Evaluate for its rule's metric, or its value is nullopt or NaN, or samples < min_samples. No data
// never creates an instance.
//
// Memory is bounded: inactive instances are dropped, and each rule holds at most
// max_instances_per_rule pending or firing instances. An instance that would exceed the cap is not
// created (no transition) and is counted in dropped(); it is retried at the next evaluation.
//
// Time: `now` is supplied by the caller. Precondition: it does not decrease between calls (an
// earlier `now` only delays firing; nothing breaks).
//
// Not thread-safe; callers serialise access.
class RuleEngine {
 public:
  static constexpr size_t kDefaultMaxInstancesPerRule = 10000;

  // Throws std::invalid_argument when a rule breaks a precondition stated on Rule, or when
  // max_instances_per_rule is 0.
  explicit RuleEngine(std::vector<Rule> rules,
                      size_t max_instances_per_rule = kDefaultMaxInstancesPerRule);

  // Evaluates every rule on `metric` against `observations`, the complete current set of published
  // values of that metric (one per label set; with duplicates, each is evaluated in turn). Returns
  // the transitions, ordered by rule, then by observation order, then (per rule) the pending
  // instances dropped because their label set was absent, in label order. A metric no rule uses
  // returns nothing.
  // Complexity: O(R + Rm * (N * (M + L log I) + I)) for R rules, Rm of them on `metric`, N
  // observations with L labels, M matchers and I instances per rule.
  std::vector<Transition> Evaluate(const std::string& metric,
                                   const std::vector<Observation>& observations, TimePoint now);

  // Pending and firing instances, ordered by rule, then by label set. O(total instances).
  std::vector<AlertInstance> Active() const;
  // Number of firing instances. O(1).
  size_t firing() const { return firing_; }
  // Number of pending and firing instances. O(rules).
  size_t size() const;
  // Instances refused by the per-rule cap since construction (each refusal counts).
  int64_t dropped() const { return dropped_; }
  const std::vector<Rule>& rules() const { return rules_; }

  // Re-creates a pending or firing instance saved earlier (a restart), under the rule at
  // rule_index, with the rule's current annotations. False (nothing changes) when rule_index is out
  // of range, the state is inactive, the label set is already tracked or the rule is at its cap.
  bool Restore(size_t rule_index, AlertInstance instance);

 private:
  struct Tracked {
    AlertInstance alert;
    uint64_t seen_round = 0;  // The last Evaluate call (round_) whose observations included it.
  };
  struct RuleState {
    double clear_threshold = 0.0;
    std::map<Labels, Tracked> instances;  // Keyed by AlertInstance::labels.
  };

  void EvaluateRule(size_t index, const std::vector<Observation>& observations, TimePoint now,
                    std::vector<Transition>& out);
  Labels InstanceLabels(const Rule& rule, const Labels& observed) const;

  std::vector<Rule> rules_;
  std::vector<RuleState> states_;  // Parallel to rules_.
  size_t max_instances_per_rule_;
  size_t firing_ = 0;
  int64_t dropped_ = 0;
  uint64_t round_ = 0;  // Number of Evaluate calls so far.
};

}  // namespace modelmon::alerts

#endif  // MODELMON_ALERTS_RULE_ENGINE_H_
