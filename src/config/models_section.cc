#include <set>
#include <utility>

#include "config/sections.h"
#include "detectors/drift.h"

namespace modelmon::config {
namespace {

void ReadClasses(YamlReader& y, const YAML::Node& node, const std::string& path, ModelConfig* m) {
  const std::string cp = Join(path, "classes");
  if (m->task == Task::kRegression) {
    if (node["classes"]) y.Error(cp, "not allowed for task regression");
    if (node["positive_class"]) y.Error(Join(path, "positive_class"), "not allowed for regression");
    return;
  }
  if (!node["classes"]) {
    if (m->task == Task::kBinaryClassification) {
      m->classes = {"0", "1"};
    } else {
      y.Error(cp, "is required for multiclass_classification (a list of class names)");
      return;
    }
  } else if (auto v = y.Strings(node["classes"], cp)) {
    m->classes = *v;
    std::set<std::string> uniq(v->begin(), v->end());
    if (uniq.size() != v->size()) y.Error(cp, "class names must be distinct");
    if (m->task == Task::kBinaryClassification && v->size() != 2) {
      y.Error(cp, "expected exactly 2 classes for binary_classification, got " +
                      std::to_string(v->size()));
    } else if (m->task == Task::kMulticlassClassification && (v->size() < 2 || v->size() > 100)) {
      y.Error(cp, "expected 2 to 100 classes, got " + std::to_string(v->size()));
    }
    for (size_t i = 0; i < v->size(); ++i) {
      y.CheckName((*v)[i], cp + "[" + std::to_string(i) + "]");
      // The prediction is monitored as a categorical column: its classes are categories.
      if ((*v)[i] == detectors::CategoricalReference::kOtherBucket) {
        y.Error(cp + "[" + std::to_string(i) + "]",
                "\"__other__\" is reserved: it labels the bin of categories outside the "
                "reference's kept ones");
      }
    }
  }
  if (m->task == Task::kBinaryClassification && m->classes.size() == 2) {
    m->positive_class = m->classes[1];
    if (node["positive_class"]) {
      if (auto v = y.String(node["positive_class"], Join(path, "positive_class"))) {
        if (*v != m->classes[0] && *v != m->classes[1]) {
          y.Error(Join(path, "positive_class"), "expected one of the classes, got \"" + *v + "\"");
        }
        m->positive_class = *v;
      }
    }
  } else if (node["positive_class"] && m->task == Task::kMulticlassClassification) {
    y.Error(Join(path, "positive_class"), "only for binary_classification");
  }
}

void ReadFeature(YamlReader& y, const YAML::Node& node, const std::string& path, FeatureConfig* f) {
  if (!node.IsMap()) {
    y.Error(path, "expected a mapping with name and type, got " + Describe(node));
    return;
  }
  y.CheckKeys(node, path, {"name", "type", "tests", "thresholds"});
  if (!node["name"]) {
    y.Error(Join(path, "name"), "is required");
  } else if (auto v = y.String(node["name"], Join(path, "name"))) {
    f->name = *v;
    y.CheckName(f->name, Join(path, "name"));
    if (f->name == kPredictionFeature || f->name == kScoreFeature || f->name == kLabelFeature ||
        f->name == kPredictionVsLabelFeature) {
      y.Error(Join(path, "name"), "\"" + f->name + "\" is reserved for the prediction");
    }
  }
  if (!node["type"]) {
    y.Error(Join(path, "type"), "is required (numerical|categorical)");
  } else if (auto v = y.String(node["type"], Join(path, "type"))) {
    if (*v == "numerical") {
      f->type = FeatureType::kNumerical;
    } else if (*v == "categorical") {
      f->type = FeatureType::kCategorical;
    } else {
      y.Error(Join(path, "type"), "expected numerical|categorical, got \"" + *v + "\"");
      return;
    }
  }
  if (node["tests"]) {
    const bool num = f->type == FeatureType::kNumerical;
    ReadDriftTests(y, node["tests"], Join(path, "tests"),
                   num ? detectors::FeatureKind::kNumerical : detectors::FeatureKind::kCategorical,
                   &f->tests);
  }
  if (node["thresholds"])
    ReadDriftThresholds(y, node["thresholds"], Join(path, "thresholds"), &f->thresholds);
}

void ReadWindow(YamlReader& y, const YAML::Node& node, const std::string& path, WindowConfig* w) {
  if (!node.IsMap()) {
    y.Error(path, "expected a mapping {size, duration}, got " + Describe(node));
    return;
  }
  y.CheckKeys(node, path, {"size", "duration"});
  if (node["size"]) {
    if (auto v = y.Integer(node["size"], Join(path, "size"), 1, 1000000)) {
      w->size = static_cast<size_t>(*v);
    }
  }
  if (node["duration"]) w->duration = y.Duration(node["duration"], Join(path, "duration"));
}

void ReadReference(YamlReader& y, const YAML::Node& node, const std::string& path,
                   ReferenceConfig* r) {
  if (!node.IsMap()) {
    y.Error(path, "expected {file: PATH} or {capture: N}, got " + Describe(node));
    return;
  }
  y.CheckKeys(node, path, {"file", "capture"});
  if (node["file"] && node["capture"]) {
    y.Error(path, "set either file or capture, not both");
    return;
  }
  if (node["file"]) {
    if (auto v = y.String(node["file"], Join(path, "file"))) r->file = *v;
  } else if (node["capture"]) {
    if (auto v = y.Integer(node["capture"], Join(path, "capture"), 1, 1000000)) {
      r->capture = static_cast<size_t>(*v);
    }
  } else {
    y.Error(path, "expected {file: PATH} or {capture: N}");
  }
}

}  // namespace

void ReadModel(YamlReader& y, const YAML::Node& node, const std::string& path, ModelConfig* m) {
  if (!node.IsMap()) {
    y.Error(path, "expected a mapping, got " + Describe(node));
    return;
  }
  y.CheckKeys(node, path,
              {"name", "task", "classes", "positive_class", "features", "window", "reference",
               "drift", "performance", "max_versions"});
  if (!node["name"]) {
    y.Error(Join(path, "name"), "is required");
  } else if (auto v = y.String(node["name"], Join(path, "name"))) {
    m->name = *v;
    y.CheckName(m->name, Join(path, "name"));
  }
  if (!node["task"]) {
    y.Error(Join(path, "task"),
            "is required (binary_classification|multiclass_classification|regression)");
  } else if (auto v = y.String(node["task"], Join(path, "task"))) {
    if (*v == "binary_classification") {
      m->task = Task::kBinaryClassification;
    } else if (*v == "multiclass_classification") {
      m->task = Task::kMulticlassClassification;
    } else if (*v == "regression") {
      m->task = Task::kRegression;
    } else {
      y.Error(Join(path, "task"),
              "expected binary_classification|multiclass_classification|regression, got \"" + *v +
                  "\"");
    }
  }
  ReadClasses(y, node, path, m);
  if (!node["features"]) {
    y.Error(Join(path, "features"), "is required (a list of {name, type})");
  } else if (!node["features"].IsSequence() || node["features"].size() == 0) {
    y.Error(Join(path, "features"), "expected a non-empty list, got " + Describe(node["features"]));
  } else {
    std::set<std::string> seen;
    for (size_t i = 0; i < node["features"].size(); ++i) {
      FeatureConfig f;
      const std::string fp = Join(path, "features") + "[" + std::to_string(i) + "]";
      ReadFeature(y, node["features"][i], fp, &f);
      if (!f.name.empty() && !seen.insert(f.name).second) {
        y.Error(Join(fp, "name"), "duplicate feature \"" + f.name + "\"");
      }
      m->features.push_back(std::move(f));
    }
    if (m->features.size() > 1000) y.Error(Join(path, "features"), "at most 1000 features");
  }
  if (node["window"]) ReadWindow(y, node["window"], Join(path, "window"), &m->window);
  if (!node["reference"]) {
    y.Error(Join(path, "reference"), "is required ({file: PATH} or {capture: N})");
  } else {
    ReadReference(y, node["reference"], Join(path, "reference"), &m->reference);
  }
  if (node["drift"]) ReadDrift(y, node["drift"], Join(path, "drift"), &m->drift);
  if (node["drift"] && node["drift"].IsMap() && node["drift"]["target"] &&
      node["drift"]["target"].IsMap() && node["drift"]["target"]["tests"]) {
    ReadDriftTests(y, node["drift"]["target"]["tests"],
                   Join(Join(Join(path, "drift"), "target"), "tests"),
                   m->task == Task::kRegression ? detectors::FeatureKind::kNumerical
                                                : detectors::FeatureKind::kCategorical,
                   &m->drift.target.tests);
  }
  if (node["performance"]) {
    ReadPerformance(y, node["performance"], Join(path, "performance"), &m->performance);
  }
  if (m->performance.estimation.enabled && m->task == Task::kRegression) {
    y.Error(Join(Join(path, "performance"), "estimation"),
            "label-free estimation needs a classifier's scores; not available for regression");
  }
  if (node["max_versions"]) {
    if (auto v = y.Integer(node["max_versions"], Join(path, "max_versions"), 1, 100)) {
      m->max_versions = static_cast<size_t>(*v);
    }
  }
}

}  // namespace modelmon::config
