#include "state/alerting.h"

#include <algorithm>
#include <bit>

#include "alerts/alertable_metrics.h"
#include "common/checksum.h"

namespace modelmon::state {
namespace {

std::vector<alerts::Rule> ToRules(const std::vector<AlertRuleConfig>& configs) {
  std::vector<alerts::Rule> rules;
  for (const AlertRuleConfig& c : configs) {
    alerts::Rule r;
    r.name = c.name;
    r.metric = c.metric;
    r.matchers = alerts::Labels(c.matchers.begin(), c.matchers.end());
    r.op = *alerts::ParseOp(c.op);
    r.threshold = c.threshold;
    r.clear_threshold = c.clear_threshold;
    r.for_duration = c.for_duration;
    r.min_samples = c.min_samples;
    r.severity = c.severity;
    r.annotations = alerts::Labels(c.annotations.begin(), c.annotations.end());
    rules.push_back(std::move(r));
  }
  return rules;
}

alerts::Observation Obs(alerts::Labels labels, std::optional<double> value, size_t samples) {
  return {std::move(labels), value, static_cast<int64_t>(samples)};
}

// What an alert instance's meaning depends on: a saved instance of a rule whose definition
// changed is not restored.
uint64_t RuleFingerprint(const AlertRuleConfig& c) {
  std::string key = c.name;
  auto field = [&key](std::string_view v) {
    key += '\0';
    key.append(v);
  };
  field(c.metric);
  for (const auto& [k, v] : c.matchers) {
    field(k);
    field(v);
  }
  field("|");
  field(c.op);
  field(std::to_string(std::bit_cast<uint64_t>(c.threshold)));
  field(c.clear_threshold ? std::to_string(std::bit_cast<uint64_t>(*c.clear_threshold)) : "-");
  field(std::to_string(c.for_duration.count()));
  field(std::to_string(c.min_samples));
  field(c.severity);
  return Fnv1a64(key);
}

int64_t AgeNs(std::chrono::steady_clock::time_point now, std::chrono::steady_clock::time_point t) {
  return std::max<int64_t>(0,
                           std::chrono::duration_cast<std::chrono::nanoseconds>(now - t).count());
}

}  // namespace

std::vector<alerts::Observation> Observe(const std::string& metric,
                                         const std::vector<ModelStatus>& statuses) {
  std::vector<alerts::Observation> out;
  const alerts::AlertableMetric* known = alerts::FindAlertableMetric(metric);
  if (known == nullptr) return out;
  const alerts::MetricFamily family = known->family;
  for (const ModelStatus& s : statuses) {
    if (family == alerts::MetricFamily::kDriftTest) {
      std::vector<const ColumnResult*> columns;
      for (const ColumnResult& c : s.columns) columns.push_back(&c);
      for (const ColumnResult& c : s.target) columns.push_back(&c);
      for (const ColumnResult* column : columns) {
        const ColumnResult& c = *column;
        for (const DriftTestResult& t : c.tests) {
          std::optional<double> v;
          if (metric == "drift_statistic") v = t.statistic;
          if (metric == "drift_p_value") v = t.p_value;
          if (metric == "drift_detected") v = t.detected ? 1.0 : 0.0;
          out.push_back(
              Obs({{"model", s.name}, {"feature", c.name}, {"test", t.test}}, v, c.window_samples));
        }
      }
    } else if (family == alerts::MetricFamily::kDriftModel) {
      std::optional<double> v;
      if (s.features_evaluated > 0) {
        v = metric == "dataset_drift_detected" ? (s.dataset_drift ? 1.0 : 0.0)
                                               : static_cast<double>(s.features_drifted);
      }
      out.push_back(Obs({{"model", s.name}}, v, s.window_events));
    } else if (family == alerts::MetricFamily::kFeatureQuality) {
      for (const ColumnResult& c : s.columns) {
        const bool numerical = c.type == FeatureType::kNumerical;
        if ((metric == "out_of_range_ratio" && !numerical) ||
            (metric == "unseen_category_ratio" && numerical)) {
          continue;
        }
        std::optional<double> v;
        if (s.window_events > 0) {
          v = metric == "missing_ratio"        ? c.missing_ratio
              : metric == "out_of_range_ratio" ? c.out_of_range_ratio
                                               : c.unseen_ratio;
        }
        out.push_back(Obs({{"model", s.name}, {"feature", c.name}}, v, s.window_events));
      }
    } else if (family == alerts::MetricFamily::kPerformance ||
               family == alerts::MetricFamily::kDegradation) {
      const bool binary = s.task == TaskName(Task::kBinaryClassification);
      for (const PerformanceResult& r : s.performance) {
        const auto values = HeadlineValues(r, binary);
        if (family == alerts::MetricFamily::kDegradation) {
          for (const auto& [name, base] : s.baseline) {
            auto it = values.find(name);
            out.push_back(
                Obs({{"model", s.name}, {"model_version", r.model_version}, {"metric", name}},
                    it == values.end() ? std::nullopt : std::optional<double>(it->second - base),
                    r.samples));
          }
        } else {
          auto it = values.find(metric);
          out.push_back(Obs({{"model", s.name}, {"model_version", r.model_version}},
                            it == values.end() ? std::nullopt : std::optional<double>(it->second),
                            r.samples));
        }
      }
    } else if (family == alerts::MetricFamily::kEstimation) {
      if (!s.estimation) continue;
      const bool ok = s.estimation->status == "ok";
      for (const EstimatedMetric& m : s.estimation->metrics) {
        std::optional<double> v;
        if (ok && metric == "estimated_performance") v = m.value;
        if (ok && metric == "estimated_performance_alert" && m.value && m.threshold_lower) {
          v = m.alert ? 1.0 : 0.0;
        }
        if (ok && metric == "estimation_error") v = m.error;
        const size_t samples =
            metric == "estimation_error" ? m.joined_samples : s.estimation->samples;
        out.push_back(Obs({{"model", s.name}, {"metric", m.metric}}, v, samples));
      }
    } else if (family == alerts::MetricFamily::kMultivariate) {
      if (!s.multivariate) continue;
      std::optional<double> v;
      if (s.multivariate->status == "ok") {
        v = metric == "multivariate_drift_detected" ? (s.multivariate->detected ? 1.0 : 0.0)
                                                    : s.multivariate->error;
      }
      out.push_back(Obs({{"model", s.name}}, v, s.multivariate->samples));
    } else if (family == alerts::MetricFamily::kGroundTruth) {
      out.push_back(Obs({{"model", s.name}, {"kind", "prediction"}},
                        static_cast<double>(s.pending_predictions), s.pending_predictions));
      out.push_back(Obs({{"model", s.name}, {"kind", "label"}},
                        static_cast<double>(s.pending_labels), s.pending_labels));
    }
  }
  return out;
}

Alerting::Alerting(const std::vector<AlertRuleConfig>& rules, DaemonMetrics* metrics)
    : metrics_(metrics), engine_(ToRules(rules)) {
  for (const AlertRuleConfig& r : rules) {
    rule_fingerprints_.push_back(RuleFingerprint(r));
    if (std::find(metrics_used_.begin(), metrics_used_.end(), r.metric) == metrics_used_.end()) {
      metrics_used_.push_back(r.metric);
    }
  }
  metrics_->alerts_firing.With({}).Set(0);
}

std::vector<alerts::Transition> Alerting::Evaluate(const std::vector<ModelStatus>& statuses,
                                                   std::chrono::steady_clock::time_point now) {
  std::vector<alerts::Transition> transitions;
  std::lock_guard<std::mutex> lock(mu_);
  for (const std::string& metric : metrics_used_) {
    auto t = engine_.Evaluate(metric, Observe(metric, statuses), now);
    transitions.insert(transitions.end(), t.begin(), t.end());
  }
  // Republish the alert series: withdrawn ones disappear, live ones carry their state.
  for (const alerts::AlertInstance& a : published_) {
    metrics_->alert_state.Remove(metrics_->alert_state.With(a.labels));
  }
  published_ = engine_.Active();
  for (const alerts::AlertInstance& a : published_) {
    metrics_->alert_state.With(a.labels).Set(a.state == alerts::State::kFiring ? 2 : 1);
  }
  metrics_->alerts_firing.With({}).Set(static_cast<double>(engine_.firing()));
  for (const alerts::Transition& t : transitions) {
    metrics_->alert_transitions
        .With({{"alertname", t.alert.rule}, {"to", std::string(alerts::StateName(t.to))}})
        .Inc();
  }
  return transitions;
}

std::vector<AlertSnapshot> Alerting::Export(std::chrono::steady_clock::time_point now) const {
  std::vector<AlertSnapshot> out;
  std::lock_guard<std::mutex> lock(mu_);
  for (const alerts::AlertInstance& a : engine_.Active()) {
    AlertSnapshot s;
    s.rule = a.rule;
    s.rule_fingerprint = rule_fingerprints_[a.rule_index];
    s.labels = a.labels;
    s.firing = a.state == alerts::State::kFiring;
    s.active_age_ns = AgeNs(now, a.active_since);
    if (s.firing) s.fired_age_ns = AgeNs(now, a.fired_at);
    s.last_value = a.last_value;
    out.push_back(std::move(s));
  }
  return out;
}

size_t Alerting::Import(const std::vector<AlertSnapshot>& alerts,
                        std::chrono::steady_clock::time_point now,
                        std::chrono::nanoseconds downtime) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t restored = 0;
  const auto& rules = engine_.rules();
  for (const AlertSnapshot& s : alerts) {
    size_t index = rules.size();
    for (size_t i = 0; i < rules.size(); ++i) {
      if (rules[i].name == s.rule && rule_fingerprints_[i] == s.rule_fingerprint) index = i;
    }
    if (index == rules.size()) continue;
    alerts::AlertInstance a;
    a.labels = s.labels;
    a.state = s.firing ? alerts::State::kFiring : alerts::State::kPending;
    a.active_since = now - downtime - std::chrono::nanoseconds(s.active_age_ns);
    if (s.firing)
      a.fired_at = now - downtime - std::chrono::nanoseconds(s.fired_age_ns.value_or(0));
    a.last_value = s.last_value;
    if (engine_.Restore(index, std::move(a))) ++restored;
  }
  return restored;
}

std::vector<alerts::AlertInstance> Alerting::Active() const {
  std::lock_guard<std::mutex> lock(mu_);
  return engine_.Active();
}

}  // namespace modelmon::state
