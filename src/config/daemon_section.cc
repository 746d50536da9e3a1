#include <set>

#include "config/sections.h"

namespace modelmon::config {

void ReadState(YamlReader& y, const YAML::Node& node, StateConfig* s) {
  if (!node.IsMap()) {
    y.Error("state",
            "expected a mapping {snapshot_path, snapshot_interval}, got " + Describe(node));
    return;
  }
  y.CheckKeys(node, "state", {"snapshot_path", "snapshot_interval"});
  if (node["snapshot_path"]) {
    if (auto v = y.String(node["snapshot_path"], "state.snapshot_path")) {
      if (v->find('\0') != std::string::npos) {
        y.Error("state.snapshot_path", "must not contain NUL characters");
      } else if (!v->empty() && v->back() == '/') {
        y.Error("state.snapshot_path", "expected a file path, got the directory \"" + *v + "\"");
      } else {
        s->snapshot_path = *v;
      }
    }
  }
  if (node["snapshot_interval"]) {
    if (auto v = y.Duration(node["snapshot_interval"], "state.snapshot_interval")) {
      if (*v < std::chrono::milliseconds(100)) {
        y.Error("state.snapshot_interval", "must be at least 100ms");
      } else {
        s->snapshot_interval = *v;
      }
    }
  }
}

void ReadLog(YamlReader& y, const YAML::Node& node, Config* c) {
  if (!node.IsMap()) {
    y.Error("log", "expected a mapping {format, level}, got " + Describe(node));
    return;
  }
  y.CheckKeys(node, "log", {"format", "level"});
  if (node["format"]) {
    if (auto v = y.String(node["format"], "log.format")) {
      if (*v == "text") {
        c->log_format = LogFormat::kText;
      } else if (*v == "json") {
        c->log_format = LogFormat::kJson;
      } else {
        y.Error("log.format", "expected text|json, got \"" + *v + "\"");
      }
    }
  }
  if (node["level"]) {
    if (auto v = y.String(node["level"], "log.level")) {
      static const std::set<std::string> kLevels = {"trace", "debug", "info",
                                                    "warn",  "error", "off"};
      if (!kLevels.count(*v)) {
        y.Error("log.level", "expected trace|debug|info|warn|error|off, got \"" + *v + "\"");
      } else {
        c->log_level = *v;
      }
    }
  }
}

}  // namespace modelmon::config
