#ifndef MODELMON_STATE_ALERTING_H_
#define MODELMON_STATE_ALERTING_H_

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "alerts/rule_engine.h"
#include "common/thread_annotations.h"
#include "modelmon/config.h"
#include "state/daemon_metrics.h"
#include "state/model_state.h"
#include "state/snapshot.h"

namespace modelmon::state {

// The daemon's threshold alerts: turns each evaluation round's model statuses into observations
// (one per published value and label set), runs the rule engine and publishes
// modelmon_alert_state (1 pending, 2 firing; absent when inactive) and modelmon_alerts_firing.
// Values a round could not compute (insufficient data, no reference) are observations without a
// value: they never fire, and a firing alert keeps firing until a real value clears it.
// Thread-safe.
class Alerting {
 public:
  // Precondition: rules passed config validation. metrics must outlive this object.
  Alerting(const std::vector<AlertRuleConfig>& rules, DaemonMetrics* metrics);

  // Evaluates every rule against the statuses of all models; returns the transitions.
  std::vector<alerts::Transition> Evaluate(const std::vector<ModelStatus>& statuses,
                                           std::chrono::steady_clock::time_point now)
      LOCKS_EXCLUDED(mu_);
  std::vector<alerts::AlertInstance> Active() const LOCKS_EXCLUDED(mu_);
  bool empty() const { return metrics_used_.empty(); }

  // Snapshot support: the pending and firing alerts with ages relative to `now`, each tagged with a
  // fingerprint of its rule's definition.
  std::vector<AlertSnapshot> Export(std::chrono::steady_clock::time_point now) const
      LOCKS_EXCLUDED(mu_);
  // Restores saved alerts whose rule (by name) still has the same definition; ages are rebuilt as
  // now - age - downtime. Returns how many were restored. Call before the first Evaluate().
  size_t Import(const std::vector<AlertSnapshot>& alerts, std::chrono::steady_clock::time_point now,
                std::chrono::nanoseconds downtime) LOCKS_EXCLUDED(mu_);

 private:
  DaemonMetrics* const metrics_;
  std::vector<uint64_t> rule_fingerprints_;  // Parallel to the rules.
  std::vector<std::string> metrics_used_;    // Distinct Rule::metric values.
  mutable std::mutex mu_;
  alerts::RuleEngine engine_ GUARDED_BY(mu_);
  std::vector<alerts::AlertInstance> published_ GUARDED_BY(mu_);
};

// The observations of one metric name in a round, from every model's status.
std::vector<alerts::Observation> Observe(const std::string& metric,
                                         const std::vector<ModelStatus>& statuses);

}  // namespace modelmon::state

#endif  // MODELMON_STATE_ALERTING_H_
