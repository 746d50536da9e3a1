#include <set>

#include "alerts/alertable_metrics.h"
#include "config/sections.h"

namespace modelmon::config {
namespace {

void ReadEstimation(YamlReader& y, const YAML::Node& node, const std::string& path,
                    EstimationConfig* e) {
  if (!node.IsMap()) {
    y.Error(path, "expected a mapping {enabled, metrics, min_samples}, got " + Describe(node));
    return;
  }
  y.CheckKeys(node, path, {"enabled", "metrics", "min_samples"});
  e->enabled = true;
  if (node["enabled"]) {
    if (auto v = y.Bool(node["enabled"], Join(path, "enabled"))) e->enabled = *v;
  }
  if (node["metrics"]) {
    const std::string mp = Join(path, "metrics");
    std::string names;
    for (const char* m : kEstimatedMetrics) {
      if (!names.empty()) names += "|";
      names += m;
    }
    if (auto list = y.Strings(node["metrics"], mp)) {
      std::set<std::string> seen;
      bool ok = !list->empty();
      if (list->empty()) y.Error(mp, "expected a non-empty list of " + names);
      for (size_t i = 0; i < list->size(); ++i) {
        const std::string& m = (*list)[i];
        bool known = false;
        for (const char* k : kEstimatedMetrics) known = known || m == k;
        const std::string ip = mp + "[" + std::to_string(i) + "]";
        if (!known) {
          y.Error(ip, "expected an estimated metric " + names + ", got \"" + m + "\"");
          ok = false;
        } else if (!seen.insert(m).second) {
          y.Error(ip, "duplicate metric \"" + m + "\"");
          ok = false;
        }
      }
      if (ok) e->metrics = *list;
    }
  }
  if (node["min_samples"]) {
    if (auto v = y.Integer(node["min_samples"], Join(path, "min_samples"), 1, 1000000)) {
      e->min_samples = static_cast<size_t>(*v);
    }
  }
}

}  // namespace

void ReadPerformance(YamlReader& y, const YAML::Node& node, const std::string& path,
                     PerformanceConfig* p) {
  if (!node.IsMap()) {
    y.Error(path, "expected a mapping, got " + Describe(node));
    return;
  }
  y.CheckKeys(node, path,
              {"window_size", "window_duration", "prediction_ttl", "label_ttl", "max_pending",
               "max_pending_labels", "baseline", "experiment", "estimation"});
  if (node["estimation"]) {
    ReadEstimation(y, node["estimation"], Join(path, "estimation"), &p->estimation);
  }
  if (node["baseline"]) {
    const std::string bp = Join(path, "baseline");
    std::string names;
    for (const alerts::AlertableMetric& m : alerts::kAlertableMetrics) {
      if (m.family == alerts::MetricFamily::kPerformance) {
        if (!names.empty()) names += "|";
        names += m.name;
      }
    }
    if (!node["baseline"].IsMap()) {
      y.Error(bp, "expected a mapping of metric to value, got " + Describe(node["baseline"]));
    } else {
      for (const auto& kv : node["baseline"]) {
        const std::string metric = kv.first.Scalar();
        const alerts::AlertableMetric* known = alerts::FindAlertableMetric(metric);
        if (known == nullptr || known->family != alerts::MetricFamily::kPerformance) {
          y.Error(Join(bp, metric), "expected a performance metric " + names);
          continue;
        }
        if (auto v = y.Number(kv.second, Join(bp, metric))) p->baseline[metric] = *v;
      }
    }
  }
  if (node["experiment"]) {
    const std::string ep = Join(path, "experiment");
    const YAML::Node e = node["experiment"];
    if (!e.IsMap() || !e["control"] || !e["challenger"]) {
      y.Error(ep, "expected {control: VERSION, challenger: VERSION}");
    } else {
      y.CheckKeys(e, ep, {"control", "challenger"});
      auto control = y.String(e["control"], Join(ep, "control"));
      auto challenger = y.String(e["challenger"], Join(ep, "challenger"));
      if (control && challenger) {
        if (*control == *challenger) {
          y.Error(ep, "control and challenger must be different versions");
        } else {
          p->experiment_control = *control;
          p->experiment_challenger = *challenger;
        }
      }
    }
  }
  if (node["window_size"]) {
    if (auto v = y.Integer(node["window_size"], Join(path, "window_size"), 1, 1000000)) {
      p->window_size = static_cast<size_t>(*v);
    }
  }
  if (node["window_duration"]) {
    p->window_duration = y.Duration(node["window_duration"], Join(path, "window_duration"));
  }
  if (node["prediction_ttl"]) {
    if (auto v = y.Duration(node["prediction_ttl"], Join(path, "prediction_ttl"))) {
      p->prediction_ttl = *v;
    }
  }
  if (node["label_ttl"]) {
    if (auto v = y.Duration(node["label_ttl"], Join(path, "label_ttl"))) p->label_ttl = *v;
  }
  if (node["max_pending"]) {
    if (auto v = y.Integer(node["max_pending"], Join(path, "max_pending"), 1, 10000000)) {
      p->max_pending = static_cast<size_t>(*v);
    }
  }
  if (node["max_pending_labels"]) {
    if (auto v =
            y.Integer(node["max_pending_labels"], Join(path, "max_pending_labels"), 1, 10000000)) {
      p->max_pending_labels = static_cast<size_t>(*v);
    }
  }
}

}  // namespace modelmon::config
