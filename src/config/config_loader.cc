#include <set>
#include <utility>

#include "common/bounded_file.h"
#include "config/sections.h"
#include "modelmon/config.h"

namespace modelmon {
namespace config {

void ReadRoot(YamlReader& y, const YAML::Node& root, Config* c) {
  if (!root.IsMap()) {
    y.Error("(root)", "expected a mapping with server and models, got " + Describe(root));
    return;
  }
  y.CheckKeys(
      root, "",
      {"server", "evaluation_interval", "log", "models", "alerts", "notify", "graphite", "state"});
  if (root["alerts"]) ReadAlerts(y, root["alerts"], &c->alerts);
  if (root["notify"]) ReadNotify(y, root["notify"], &c->notify);
  if (root["graphite"]) ReadGraphite(y, root["graphite"], &c->graphite);
  if (root["state"]) ReadState(y, root["state"], &c->state);
  if (root["server"]) ReadServer(y, root["server"], &c->server);
  if (root["evaluation_interval"]) {
    if (auto v = y.Duration(root["evaluation_interval"], "evaluation_interval")) {
      c->evaluation_interval = *v;
    }
  }
  if (root["log"]) ReadLog(y, root["log"], c);
  if (!root["models"]) {
    y.Error("models", "is required (a list of monitored models)");
    return;
  }
  const YAML::Node models = root["models"];
  if (!models.IsSequence() || models.size() == 0) {
    y.Error("models", "expected a non-empty list, got " + Describe(models));
    return;
  }
  if (models.size() > 100) y.Error("models", "at most 100 models");
  std::set<std::string> names;
  for (size_t i = 0; i < models.size(); ++i) {
    ModelConfig m;
    const std::string path = "models[" + std::to_string(i) + "]";
    ReadModel(y, models[i], path, &m);
    if (!m.name.empty() && !names.insert(m.name).second) {
      y.Error(path + ".name", "duplicate model \"" + m.name + "\"");
    }
    c->models.push_back(std::move(m));
  }
}

}  // namespace config

ConfigResult LoadConfigString(const std::string& yaml, const std::string& source_path) {
  ConfigResult result;
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    result.errors.push_back("(yaml) line " + std::to_string(e.mark.line + 1) + ", column " +
                            std::to_string(e.mark.column + 1) + ": " + e.msg);
    return result;
  }
  config::YamlReader reader;
  Config config;
  config.source_path = source_path;
  try {
    reader.CheckDuplicateKeys(root, "");
    config::ReadRoot(reader, root, &config);
  } catch (const YAML::Exception& e) {
    reader.Error("(yaml)", e.what());
  }
  if (reader.errors().empty()) {
    result.config = std::move(config);
  } else {
    result.errors = reader.TakeErrors();
  }
  return result;
}

ConfigResult LoadConfigFile(const std::string& path) {
  std::string text;
  std::string error;
  if (ReadBoundedFile(path, kMaxConfigFileBytes, &text, &error) != FileReadStatus::kOk) {
    ConfigResult result;
    result.errors.push_back(error);
    return result;
  }
  return LoadConfigString(text, path);
}

const char* TaskName(Task task) {
  switch (task) {
    case Task::kBinaryClassification:
      return "binary_classification";
    case Task::kMulticlassClassification:
      return "multiclass_classification";
    case Task::kRegression:
      return "regression";
  }
  return "unknown";
}

const char* FeatureTypeName(FeatureType type) {
  return type == FeatureType::kNumerical ? "numerical" : "categorical";
}

}  // namespace modelmon
