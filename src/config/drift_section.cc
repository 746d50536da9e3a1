#include <set>
#include <string_view>

#include "config/sections.h"

namespace modelmon::config {
namespace {

using detectors::DriftTestInfo;
using detectors::FeatureKind;

// The names a test list of `kind` accepts, "auto" included, in alphabetical order.
std::set<std::string> TestNamesFor(FeatureKind kind) {
  std::set<std::string> names = {std::string(detectors::kAutoDriftTest)};
  for (const DriftTestInfo& info : detectors::kDriftTests) {
    if (kind == FeatureKind::kNumerical ? info.numerical : info.categorical) {
      names.emplace(info.name);
    }
  }
  return names;
}

// Every test name in table order, "|"-separated.
std::string AllTestNames() {
  std::string names;
  for (const DriftTestInfo& info : detectors::kDriftTests) {
    if (!names.empty()) names += "|";
    names += info.name;
  }
  return names;
}

void ReadMultivariate(YamlReader& y, const YAML::Node& node, const std::string& path,
                      MultivariateDriftConfig* m) {
  if (!node.IsMap()) {
    y.Error(path,
            "expected a mapping {enabled, explained_variance, chunk_size}, got " + Describe(node));
    return;
  }
  y.CheckKeys(node, path, {"enabled", "explained_variance", "chunk_size"});
  m->enabled = true;
  if (node["enabled"]) {
    if (auto v = y.Bool(node["enabled"], Join(path, "enabled"))) m->enabled = *v;
  }
  if (node["explained_variance"]) {
    const std::string ep = Join(path, "explained_variance");
    if (auto v = y.Number(node["explained_variance"], ep)) {
      if (*v <= 0 || *v >= 1) {
        y.Error(ep, "expected a share in (0, 1), got " + Describe(node["explained_variance"]));
      } else {
        m->explained_variance = *v;
      }
    }
  }
  if (node["chunk_size"]) {
    if (auto v = y.Integer(node["chunk_size"], Join(path, "chunk_size"), 2, 1000000)) {
      m->chunk_size = static_cast<size_t>(*v);
    }
  }
}

// The tests list is validated by ReadModel, which knows the label's type.
void ReadTarget(YamlReader& y, const YAML::Node& node, const std::string& path,
                TargetDriftConfig* t) {
  if (!node.IsMap()) {
    y.Error(path,
            "expected a mapping {enabled, tests, prediction_vs_label}, got " + Describe(node));
    return;
  }
  y.CheckKeys(node, path, {"enabled", "tests", "prediction_vs_label"});
  t->enabled = true;
  if (node["enabled"]) {
    if (auto v = y.Bool(node["enabled"], Join(path, "enabled"))) t->enabled = *v;
  }
  if (node["prediction_vs_label"]) {
    if (auto v = y.Bool(node["prediction_vs_label"], Join(path, "prediction_vs_label"))) {
      t->prediction_vs_label = *v;
    }
  }
}

}  // namespace

void ReadDriftTests(YamlReader& y, const YAML::Node& node, const std::string& path,
                    FeatureKind kind, std::vector<std::string>* out) {
  auto list = y.Strings(node, path);
  if (!list) return;
  const std::set<std::string> allowed = TestNamesFor(kind);
  const char* type_name = kind == FeatureKind::kNumerical ? "numerical" : "categorical";
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string& t = (*list)[i];
    if (!allowed.count(t)) {
      std::string names;
      for (const auto& a : allowed) names += (names.empty() ? "" : "|") + a;
      y.Error(
          path + "[" + std::to_string(i) + "]",
          std::string("expected a ") + type_name + " drift test " + names + ", got \"" + t + "\"");
      return;
    }
  }
  *out = *list;
}

void ReadDriftThresholds(YamlReader& y, const YAML::Node& node, const std::string& path,
                         std::map<std::string, double>* out) {
  if (!node.IsMap()) {
    y.Error(path, "expected a mapping of test name to threshold, got " + Describe(node));
    return;
  }
  for (const auto& kv : node) {
    const std::string test = kv.first.Scalar();
    const std::string p = Join(path, test);
    const DriftTestInfo* info = detectors::FindDriftTest(test);
    if (info == nullptr) {
      y.Error(p, "expected a drift test " + AllTestNames());
      continue;
    }
    auto v = y.Number(kv.second, p);
    if (!v) continue;
    if (*v <= 0) {
      y.Error(p, "expected a positive threshold, got " + Describe(kv.second));
      continue;
    }
    if (info->p_value && *v >= 1) {
      y.Error(p, "expected a p-value threshold in (0, 1), got " + Describe(kv.second));
      continue;
    }
    (*out)[test] = *v;
  }
}

void ReadDrift(YamlReader& y, const YAML::Node& node, const std::string& path, DriftConfig* d) {
  if (!node.IsMap()) {
    y.Error(path, "expected a mapping, got " + Describe(node));
    return;
  }
  y.CheckKeys(
      node, path,
      {"numerical_tests", "categorical_tests", "thresholds", "min_samples", "dataset_drift_share",
       "bonferroni", "psi_bins", "max_categories", "monitor_prediction", "multivariate", "target"});
  if (node["multivariate"]) {
    ReadMultivariate(y, node["multivariate"], Join(path, "multivariate"), &d->multivariate);
  }
  if (node["target"]) ReadTarget(y, node["target"], Join(path, "target"), &d->target);
  if (node["numerical_tests"]) {
    ReadDriftTests(y, node["numerical_tests"], Join(path, "numerical_tests"),
                   detectors::FeatureKind::kNumerical, &d->numerical_tests);
  }
  if (node["categorical_tests"]) {
    ReadDriftTests(y, node["categorical_tests"], Join(path, "categorical_tests"),
                   detectors::FeatureKind::kCategorical, &d->categorical_tests);
  }
  if (node["thresholds"])
    ReadDriftThresholds(y, node["thresholds"], Join(path, "thresholds"), &d->thresholds);
  if (node["min_samples"]) {
    if (auto v = y.Integer(node["min_samples"], Join(path, "min_samples"), 1, 1000000)) {
      d->min_samples = static_cast<size_t>(*v);
    }
  }
  if (node["dataset_drift_share"]) {
    if (auto v = y.Number(node["dataset_drift_share"], Join(path, "dataset_drift_share"))) {
      if (*v <= 0 || *v > 1) {
        y.Error(Join(path, "dataset_drift_share"), "expected a share in (0, 1]");
      } else {
        d->dataset_drift_share = *v;
      }
    }
  }
  if (node["bonferroni"]) {
    if (auto v = y.Bool(node["bonferroni"], Join(path, "bonferroni"))) d->bonferroni = *v;
  }
  if (node["psi_bins"]) {
    if (auto v = y.Integer(node["psi_bins"], Join(path, "psi_bins"), 2, 1000)) {
      d->psi_bins = static_cast<int>(*v);
    }
  }
  if (node["max_categories"]) {
    if (auto v = y.Integer(node["max_categories"], Join(path, "max_categories"), 1, 10000)) {
      d->max_categories = static_cast<size_t>(*v);
    }
  }
  if (node["monitor_prediction"]) {
    if (auto v = y.Bool(node["monitor_prediction"], Join(path, "monitor_prediction"))) {
      d->monitor_prediction = *v;
    }
  }
}

}  // namespace modelmon::config
