#include <set>
#include <utility>

#include "alerts/alertable_metrics.h"
#include "config/durations.h"
#include "config/sections.h"

namespace modelmon::config {

void ReadAlerts(YamlReader& y, const YAML::Node& node, std::vector<AlertRuleConfig>* out) {
  std::set<std::string> metrics;  // Alphabetical, for the error message.
  for (const alerts::AlertableMetric& m : alerts::kAlertableMetrics) metrics.emplace(m.name);
  if (!node.IsSequence()) {
    y.Error("alerts", "expected a list of rules, got " + Describe(node));
    return;
  }
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string path = "alerts[" + std::to_string(i) + "]";
    const YAML::Node r = node[i];
    if (!r.IsMap()) {
      y.Error(path, "expected a mapping, got " + Describe(r));
      continue;
    }
    y.CheckKeys(r, path,
                {"name", "metric", "model", "feature", "test", "model_version", "labels", "op",
                 "threshold", "clear_threshold", "for", "min_samples", "severity", "annotations"});
    AlertRuleConfig a;
    for (const char* key : {"name", "metric", "op", "threshold"}) {
      if (!r[key]) y.Error(Join(path, key), "is required");
    }
    if (r["name"]) {
      if (auto v = y.String(r["name"], Join(path, "name"))) {
        a.name = *v;
        y.CheckName(a.name, Join(path, "name"));
      }
    }
    if (r["metric"]) {
      if (auto v = y.String(r["metric"], Join(path, "metric"))) {
        if (alerts::FindAlertableMetric(*v) == nullptr) {
          std::string names;
          for (const auto& m : metrics) names += (names.empty() ? "" : "|") + m;
          y.Error(Join(path, "metric"), "expected one of " + names + ", got \"" + *v + "\"");
        }
        a.metric = *v;
      }
    }
    for (const char* key : {"model", "feature", "test", "model_version"}) {
      if (!r[key]) continue;
      if (auto v = y.String(r[key], Join(path, key))) {
        if (*v != "*") a.matchers[key] = *v;
      }
    }
    if (r["labels"]) {
      if (!r["labels"].IsMap()) {
        y.Error(Join(path, "labels"), "expected a mapping of label to value");
      } else {
        for (const auto& kv : r["labels"]) {
          if (auto v = y.String(kv.second, Join(Join(path, "labels"), kv.first.Scalar()))) {
            if (*v != "*") a.matchers[kv.first.Scalar()] = *v;
          }
        }
      }
    }
    if (r["op"]) {
      if (auto v = y.String(r["op"], Join(path, "op"))) {
        if (*v != "<" && *v != "<=" && *v != ">" && *v != ">=") {
          y.Error(Join(path, "op"), "expected <|<=|>|>=, got \"" + *v + "\"");
        }
        a.op = *v;
      }
    }
    if (r["threshold"]) {
      if (auto v = y.Number(r["threshold"], Join(path, "threshold"))) a.threshold = *v;
    }
    if (r["clear_threshold"]) {
      if (auto v = y.Number(r["clear_threshold"], Join(path, "clear_threshold"))) {
        const bool below = a.op == "<" || a.op == "<=";
        if ((below && *v < a.threshold) || (!below && *v > a.threshold)) {
          y.Error(Join(path, "clear_threshold"),
                  std::string("must be on the resolved side of threshold (") +
                      (below ? ">= " : "<= ") + "threshold for op " + a.op + ")");
        }
        a.clear_threshold = *v;
      }
    }
    if (r["for"]) {
      if (auto v = y.String(r["for"], Join(path, "for"))) {
        auto d = ParseDuration(*v);
        if (IsBareNumberDuration(*v)) {
          y.Error(Join(path, "for"), BareNumberDurationMessage(*v));
        } else if (!d) {
          y.Error(Join(path, "for"),
                  "expected a duration such as 0s, 30s or 5m, got \"" + *v + "\"");
        } else {
          a.for_duration = *d;
        }
      }
    }
    if (r["min_samples"]) {
      if (auto v = y.Integer(r["min_samples"], Join(path, "min_samples"), 0, 100000000)) {
        a.min_samples = *v;
      }
    }
    if (r["severity"]) {
      if (auto v = y.String(r["severity"], Join(path, "severity"))) a.severity = *v;
    }
    if (r["annotations"]) {
      if (!r["annotations"].IsMap()) {
        y.Error(Join(path, "annotations"), "expected a mapping of name to text");
      } else {
        for (const auto& kv : r["annotations"]) {
          const std::string ap = Join(Join(path, "annotations"), kv.first.Scalar());
          if (auto v = y.String(kv.second, ap)) a.annotations[kv.first.Scalar()] = *v;
        }
      }
    }
    out->push_back(std::move(a));
  }
}

}  // namespace modelmon::config
