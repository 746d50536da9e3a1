// YAML configuration loading. yaml-cpp is used in this file only.

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string_view>

#include "config/durations.h"
#include "modelmon/config.h"

namespace modelmon {
namespace {

const std::set<std::string> kKnownTests = {"auto", "ks",          "chi2",
                                           "psi",  "wasserstein", "jensen_shannon"};
const std::set<std::string> kNumericalTests = {"auto", "ks", "psi", "wasserstein",
                                               "jensen_shannon"};
const std::set<std::string> kCategoricalTests = {"auto", "chi2", "psi", "jensen_shannon"};

std::string Describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
      return "null";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Scalar:
      return "\"" + node.Scalar() + "\"";
    default:
      return "nothing";
  }
}

// Walks the YAML tree collecting every error with its key path; never throws.
class Reader {
 public:
  std::vector<std::string> errors;

  void Error(const std::string& path, const std::string& message) {
    errors.push_back(path + ": " + message);
  }

  // Reports keys of `node` that are not in `allowed` (typos are the most common config error).
  void CheckKeys(const YAML::Node& node, const std::string& path,
                 std::initializer_list<std::string_view> allowed) {
    if (!node.IsMap()) return;
    for (const auto& kv : node) {
      const std::string key = kv.first.Scalar();
      bool known = false;
      for (auto a : allowed) known = known || key == a;
      if (!known) {
        std::string list;
        for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
        Error(Join(path, key), "unknown key (expected one of: " + list + ")");
      }
    }
  }

  static std::string Join(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }

  // Expands ${NAME} and ${NAME:-default} from the environment; other text is kept as it is.
  std::optional<std::string> Expand(const std::string& value, const std::string& path) {
    auto is_name_char = [](char c, bool first) {
      return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
             (!first && c >= '0' && c <= '9');
    };
    std::string out;
    size_t pos = 0;
    while (pos < value.size()) {
      const size_t start = value.find("${", pos);
      if (start == std::string::npos) break;
      size_t i = start + 2;
      while (i < value.size() && is_name_char(value[i], i == start + 2)) ++i;
      const std::string name = value.substr(start + 2, i - start - 2);
      std::optional<std::string> fallback;
      size_t close = std::string::npos;
      if (!name.empty() && i < value.size() && value[i] == '}') {
        close = i;
      } else if (!name.empty() && value.compare(i, 2, ":-") == 0) {
        close = value.find('}', i + 2);
        if (close != std::string::npos) fallback = value.substr(i + 2, close - i - 2);
      }
      if (close == std::string::npos) {  // Not a reference: keep the text.
        out.append(value, pos, start + 2 - pos);
        pos = start + 2;
        continue;
      }
      out.append(value, pos, start - pos);
      if (const char* env = std::getenv(name.c_str())) {
        out += env;
      } else if (fallback) {
        out += *fallback;
      } else {
        Error(path, "environment variable " + name + " is not set");
        return std::nullopt;
      }
      pos = close + 1;
    }
    out.append(value, pos);
    return out;
  }

  std::optional<std::string> String(const YAML::Node& node, const std::string& path) {
    if (!node.IsScalar()) {
      Error(path, "expected a string, got " + Describe(node));
      return std::nullopt;
    }
    return Expand(node.Scalar(), path);
  }

  std::optional<double> Number(const YAML::Node& node, const std::string& path) {
    auto s = String(node, path);
    if (!s) return std::nullopt;
    errno = 0;
    char* end = nullptr;
    double v = std::strtod(s->c_str(), &end);
    if (s->empty() || end != s->c_str() + s->size() || errno == ERANGE || !std::isfinite(v)) {
      Error(path, "expected a number, got " + Describe(node));
      return std::nullopt;
    }
    return v;
  }

  // Integer within [lo, hi].
  std::optional<int64_t> Integer(const YAML::Node& node, const std::string& path, int64_t lo,
                                 int64_t hi) {
    auto s = String(node, path);
    if (!s) return std::nullopt;
    errno = 0;
    char* end = nullptr;
    long long v = std::strtoll(s->c_str(), &end, 10);
    if (s->empty() || end != s->c_str() + s->size() || errno == ERANGE) {
      Error(path, "expected an integer, got " + Describe(node));
      return std::nullopt;
    }
    if (v < lo || v > hi) {
      Error(path, "expected an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                      "], got " + std::to_string(v));
      return std::nullopt;
    }
    return static_cast<int64_t>(v);
  }

  std::optional<bool> Bool(const YAML::Node& node, const std::string& path) {
    auto s = String(node, path);
    if (!s) return std::nullopt;
    if (*s == "true") return true;
    if (*s == "false") return false;
    Error(path, "expected true|false, got " + Describe(node));
    return std::nullopt;
  }

  std::optional<std::chrono::milliseconds> Duration(const YAML::Node& node,
                                                    const std::string& path) {
    auto s = String(node, path);
    if (!s) return std::nullopt;
    auto d = ParseDuration(*s);
    if (!d || d->count() <= 0) {
      Error(path,
            "expected a positive duration such as 500ms, 10s, 5m, 1h or 7d, got " + Describe(node));
      return std::nullopt;
    }
    return d;
  }

  std::optional<std::vector<std::string>> Strings(const YAML::Node& node, const std::string& path) {
    if (!node.IsSequence()) {
      Error(path, "expected a list, got " + Describe(node));
      return std::nullopt;
    }
    std::vector<std::string> out;
    for (size_t i = 0; i < node.size(); ++i) {
      auto s = String(node[i], path + "[" + std::to_string(i) + "]");
      if (!s) return std::nullopt;
      out.push_back(*s);
    }
    return out;
  }

  void Tests(const YAML::Node& node, const std::string& path, const std::set<std::string>& allowed,
             const char* type_name, std::vector<std::string>* out) {
    auto list = Strings(node, path);
    if (!list) return;
    for (size_t i = 0; i < list->size(); ++i) {
      const std::string& t = (*list)[i];
      if (!allowed.count(t)) {
        std::string names;
        for (const auto& a : allowed) names += (names.empty() ? "" : "|") + a;
        Error(path + "[" + std::to_string(i) + "]", std::string("expected a ") + type_name +
                                                        " drift test " + names + ", got \"" + t +
                                                        "\"");
        return;
      }
    }
    *out = *list;
  }

  void Thresholds(const YAML::Node& node, const std::string& path,
                  std::map<std::string, double>* out) {
    if (!node.IsMap()) {
      Error(path, "expected a mapping of test name to threshold, got " + Describe(node));
      return;
    }
    for (const auto& kv : node) {
      const std::string test = kv.first.Scalar();
      const std::string p = Join(path, test);
      if (!kKnownTests.count(test) || test == "auto") {
        Error(p, "expected a drift test ks|chi2|psi|wasserstein|jensen_shannon");
        continue;
      }
      auto v = Number(kv.second, p);
      if (!v) continue;
      if (*v <= 0) {
        Error(p, "expected a positive threshold, got " + Describe(kv.second));
        continue;
      }
      if ((test == "ks" || test == "chi2") && *v >= 1) {
        Error(p, "expected a p-value threshold in (0, 1), got " + Describe(kv.second));
        continue;
      }
      (*out)[test] = *v;
    }
  }

  void Server(const YAML::Node& node, ServerConfig* s) {
    const std::string path = "server";
    if (!node.IsMap()) {
      Error(path, "expected a mapping, got " + Describe(node));
      return;
    }
    CheckKeys(node, path,
              {"listen", "threads", "max_body_bytes", "max_header_bytes", "max_batch_events",
               "max_connections", "request_timeout", "idle_timeout", "shutdown_timeout", "auth",
               "max_inflight_requests", "max_inflight_bytes", "tls"});
    if (node["auth"]) Auth(node["auth"], s);
    if (node["tls"]) Tls(node["tls"], &s->tls);
    if (node["listen"]) {
      auto v = String(node["listen"], "server.listen");
      if (v) {
        auto colon = v->rfind(':');
        if (colon == std::string::npos || colon == 0) {
          Error("server.listen", "expected host:port such as 0.0.0.0:8080, got \"" + *v + "\"");
        } else {
          std::string host = v->substr(0, colon);
          if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
            host = host.substr(1, host.size() - 2);
          }
          auto port = Integer(YAML::Node(v->substr(colon + 1)), "server.listen (port)", 0, 65535);
          if (port) {
            s->listen_address = host;
            s->port = static_cast<uint16_t>(*port);
          }
        }
      }
    }
    if (node["threads"]) {
      if (auto v = Integer(node["threads"], "server.threads", 1, 64)) {
        s->threads = static_cast<int>(*v);
      }
    }
    auto size = [&](const char* key, size_t* out, int64_t lo, int64_t hi) {
      if (!node[key]) return;
      if (auto v = Integer(node[key], Join(path, key), lo, hi)) *out = static_cast<size_t>(*v);
    };
    size("max_body_bytes", &s->max_body_bytes, 1024, int64_t{1} << 30);
    size("max_header_bytes", &s->max_header_bytes, 1024, 1 << 20);
    size("max_batch_events", &s->max_batch_events, 1, 1000000);
    size("max_connections", &s->max_connections, 1, 100000);
    size("max_inflight_requests", &s->max_inflight_requests, 1, 100000);
    size("max_inflight_bytes", &s->max_inflight_bytes, 1024, int64_t{1} << 40);
    if (s->max_inflight_bytes < s->max_body_bytes) {
      Error(Join(path, "max_inflight_bytes"),
            "must be at least max_body_bytes (" + std::to_string(s->max_body_bytes) +
                "), or no body of the largest size could ever be admitted");
    }
    auto duration = [&](const char* key, std::chrono::milliseconds* out) {
      if (!node[key]) return;
      if (auto v = Duration(node[key], Join(path, key))) *out = *v;
    };
    duration("request_timeout", &s->request_timeout);
    duration("idle_timeout", &s->idle_timeout);
    duration("shutdown_timeout", &s->shutdown_timeout);
  }

  // File contents are checked when the daemon starts (the server module owns OpenSSL).
  void Tls(const YAML::Node& node, TlsConfig* t) {
    const std::string path = "server.tls";
    if (!node.IsMap()) {
      Error(path, "expected a mapping with cert_file and key_file, got " + Describe(node));
      return;
    }
    CheckKeys(node, path, {"cert_file", "key_file", "min_version"});
    if (node["cert_file"]) {
      if (auto v = String(node["cert_file"], path + ".cert_file")) t->cert_file = *v;
    }
    if (node["key_file"]) {
      if (auto v = String(node["key_file"], path + ".key_file")) t->key_file = *v;
    }
    if (t->cert_file.empty() != t->key_file.empty()) {
      Error(t->cert_file.empty() ? path + ".cert_file" : path + ".key_file",
            "TLS needs both cert_file and key_file");
    }
    if (node["min_version"]) {
      if (auto v = String(node["min_version"], path + ".min_version")) {
        if (*v == "1.2") {
          t->min_version = 12;
        } else if (*v == "1.3") {
          t->min_version = 13;
        } else {
          Error(path + ".min_version", "expected \"1.2\" or \"1.3\", got \"" + *v + "\"");
        }
      }
    }
  }

  // Tokens come inline (usually "${ENV_VAR}") or from a file (Kubernetes secrets); never logged.
  void Auth(const YAML::Node& node, ServerConfig* s) {
    if (!node.IsMap()) {
      Error("server.auth", "expected a mapping of *_token / *_token_file, got " + Describe(node));
      return;
    }
    CheckKeys(node, "server.auth",
              {"ingest_token", "ingest_token_file", "admin_token", "admin_token_file", "read_token",
               "read_token_file"});
    const std::pair<const char*, std::string*> scopes[] = {
        {"ingest", &s->ingest_token}, {"admin", &s->admin_token}, {"read", &s->read_token}};
    for (const auto& [scope, out] : scopes) {
      const std::string key = std::string(scope) + "_token";
      const std::string path = "server.auth." + key;
      if (node[key] && node[key + "_file"]) {
        Error(path, "set either " + key + " or " + key + "_file, not both");
        continue;
      }
      if (node[key]) {
        if (auto v = String(node[key], path)) *out = *v;
      } else if (node[key + "_file"]) {
        auto file = String(node[key + "_file"], path + "_file");
        if (!file) continue;
        std::ifstream in(*file, std::ios::binary);
        if (!in) {
          Error(path + "_file", "cannot read \"" + *file + "\"");
          continue;
        }
        std::string token((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) {
          token.pop_back();
        }
        *out = token;
      }
      if (!out->empty() && out->size() < 16) {
        Error(path, "a token needs at least 16 characters");
      }
    }
  }

  void Feature(const YAML::Node& node, const std::string& path, FeatureConfig* f) {
    if (!node.IsMap()) {
      Error(path, "expected a mapping with name and type, got " + Describe(node));
      return;
    }
    CheckKeys(node, path, {"name", "type", "tests", "thresholds"});
    if (!node["name"]) {
      Error(Join(path, "name"), "is required");
    } else if (auto v = String(node["name"], Join(path, "name"))) {
      f->name = *v;
      CheckName(f->name, Join(path, "name"));
      if (f->name == kPredictionFeature || f->name == kScoreFeature) {
        Error(Join(path, "name"), "\"" + f->name + "\" is reserved for the prediction");
      }
    }
    if (!node["type"]) {
      Error(Join(path, "type"), "is required (numerical|categorical)");
    } else if (auto v = String(node["type"], Join(path, "type"))) {
      if (*v == "numerical") {
        f->type = FeatureType::kNumerical;
      } else if (*v == "categorical") {
        f->type = FeatureType::kCategorical;
      } else {
        Error(Join(path, "type"), "expected numerical|categorical, got \"" + *v + "\"");
        return;
      }
    }
    if (node["tests"]) {
      const bool num = f->type == FeatureType::kNumerical;
      Tests(node["tests"], Join(path, "tests"), num ? kNumericalTests : kCategoricalTests,
            num ? "numerical" : "categorical", &f->tests);
    }
    if (node["thresholds"])
      Thresholds(node["thresholds"], Join(path, "thresholds"), &f->thresholds);
  }

  // Names become label values and JSON keys: keep them printable and short.
  void CheckName(const std::string& name, const std::string& path) {
    const bool valid =
        !name.empty() && name.size() <= 128 && std::all_of(name.begin(), name.end(), [](char c) {
          return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == '.' || c == ':' || c == '-';
        });
    if (!valid) {
      Error(path, "expected 1-128 characters from [A-Za-z0-9_.:-], got \"" + name + "\"");
    }
  }

  void Model(const YAML::Node& node, const std::string& path, ModelConfig* m) {
    if (!node.IsMap()) {
      Error(path, "expected a mapping, got " + Describe(node));
      return;
    }
    CheckKeys(node, path,
              {"name", "task", "classes", "positive_class", "features", "window", "reference",
               "drift", "performance", "max_versions"});
    if (!node["name"]) {
      Error(Join(path, "name"), "is required");
    } else if (auto v = String(node["name"], Join(path, "name"))) {
      m->name = *v;
      CheckName(m->name, Join(path, "name"));
    }
    if (!node["task"]) {
      Error(Join(path, "task"),
            "is required (binary_classification|multiclass_classification|regression)");
    } else if (auto v = String(node["task"], Join(path, "task"))) {
      if (*v == "binary_classification") {
        m->task = Task::kBinaryClassification;
      } else if (*v == "multiclass_classification") {
        m->task = Task::kMulticlassClassification;
      } else if (*v == "regression") {
        m->task = Task::kRegression;
      } else {
        Error(Join(path, "task"),
              "expected binary_classification|multiclass_classification|regression, got \"" + *v +
                  "\"");
      }
    }
    Classes(node, path, m);
    if (!node["features"]) {
      Error(Join(path, "features"), "is required (a list of {name, type})");
    } else if (!node["features"].IsSequence() || node["features"].size() == 0) {
      Error(Join(path, "features"), "expected a non-empty list, got " + Describe(node["features"]));
    } else {
      std::set<std::string> seen;
      for (size_t i = 0; i < node["features"].size(); ++i) {
        FeatureConfig f;
        const std::string fp = Join(path, "features") + "[" + std::to_string(i) + "]";
        Feature(node["features"][i], fp, &f);
        if (!f.name.empty() && !seen.insert(f.name).second) {
          Error(Join(fp, "name"), "duplicate feature \"" + f.name + "\"");
        }
        m->features.push_back(std::move(f));
      }
      if (m->features.size() > 1000) Error(Join(path, "features"), "at most 1000 features");
    }
    if (node["window"]) Window(node["window"], Join(path, "window"), &m->window);
    if (!node["reference"]) {
      Error(Join(path, "reference"), "is required ({file: PATH} or {capture: N})");
    } else {
      Reference(node["reference"], Join(path, "reference"), &m->reference);
    }
    if (node["drift"]) Drift(node["drift"], Join(path, "drift"), &m->drift);
    if (node["performance"]) {
      Performance(node["performance"], Join(path, "performance"), &m->performance);
    }
    if (node["max_versions"]) {
      if (auto v = Integer(node["max_versions"], Join(path, "max_versions"), 1, 100)) {
        m->max_versions = static_cast<size_t>(*v);
      }
    }
  }

  void Classes(const YAML::Node& node, const std::string& path, ModelConfig* m) {
    const std::string cp = Join(path, "classes");
    if (m->task == Task::kRegression) {
      if (node["classes"]) Error(cp, "not allowed for task regression");
      if (node["positive_class"]) Error(Join(path, "positive_class"), "not allowed for regression");
      return;
    }
    if (!node["classes"]) {
      if (m->task == Task::kBinaryClassification) {
        m->classes = {"0", "1"};
      } else {
        Error(cp, "is required for multiclass_classification (a list of class names)");
        return;
      }
    } else if (auto v = Strings(node["classes"], cp)) {
      m->classes = *v;
      std::set<std::string> uniq(v->begin(), v->end());
      if (uniq.size() != v->size()) Error(cp, "class names must be distinct");
      if (m->task == Task::kBinaryClassification && v->size() != 2) {
        Error(cp, "expected exactly 2 classes for binary_classification, got " +
                      std::to_string(v->size()));
      } else if (m->task == Task::kMulticlassClassification && (v->size() < 2 || v->size() > 100)) {
        Error(cp, "expected 2 to 100 classes, got " + std::to_string(v->size()));
      }
      for (size_t i = 0; i < v->size(); ++i) {
        CheckName((*v)[i], cp + "[" + std::to_string(i) + "]");
      }
    }
    if (m->task == Task::kBinaryClassification && m->classes.size() == 2) {
      m->positive_class = m->classes[1];
      if (node["positive_class"]) {
        if (auto v = String(node["positive_class"], Join(path, "positive_class"))) {
          if (*v != m->classes[0] && *v != m->classes[1]) {
            Error(Join(path, "positive_class"), "expected one of the classes, got \"" + *v + "\"");
          }
          m->positive_class = *v;
        }
      }
    } else if (node["positive_class"] && m->task == Task::kMulticlassClassification) {
      Error(Join(path, "positive_class"), "only for binary_classification");
    }
  }

  void Window(const YAML::Node& node, const std::string& path, WindowConfig* w) {
    if (!node.IsMap()) {
      Error(path, "expected a mapping {size, duration}, got " + Describe(node));
      return;
    }
    CheckKeys(node, path, {"size", "duration"});
    if (node["size"]) {
      if (auto v = Integer(node["size"], Join(path, "size"), 1, 1000000)) {
        w->size = static_cast<size_t>(*v);
      }
    }
    if (node["duration"]) w->duration = Duration(node["duration"], Join(path, "duration"));
  }

  void Reference(const YAML::Node& node, const std::string& path, ReferenceConfig* r) {
    if (!node.IsMap()) {
      Error(path, "expected {file: PATH} or {capture: N}, got " + Describe(node));
      return;
    }
    CheckKeys(node, path, {"file", "capture"});
    if (node["file"] && node["capture"]) {
      Error(path, "set either file or capture, not both");
      return;
    }
    if (node["file"]) {
      if (auto v = String(node["file"], Join(path, "file"))) r->file = *v;
    } else if (node["capture"]) {
      if (auto v = Integer(node["capture"], Join(path, "capture"), 1, 1000000)) {
        r->capture = static_cast<size_t>(*v);
      }
    } else {
      Error(path, "expected {file: PATH} or {capture: N}");
    }
  }

  void Drift(const YAML::Node& node, const std::string& path, DriftConfig* d) {
    if (!node.IsMap()) {
      Error(path, "expected a mapping, got " + Describe(node));
      return;
    }
    CheckKeys(
        node, path,
        {"numerical_tests", "categorical_tests", "thresholds", "min_samples", "dataset_drift_share",
         "bonferroni", "psi_bins", "max_categories", "monitor_prediction"});
    if (node["numerical_tests"]) {
      Tests(node["numerical_tests"], Join(path, "numerical_tests"), kNumericalTests, "numerical",
            &d->numerical_tests);
    }
    if (node["categorical_tests"]) {
      Tests(node["categorical_tests"], Join(path, "categorical_tests"), kCategoricalTests,
            "categorical", &d->categorical_tests);
    }
    if (node["thresholds"])
      Thresholds(node["thresholds"], Join(path, "thresholds"), &d->thresholds);
    if (node["min_samples"]) {
      if (auto v = Integer(node["min_samples"], Join(path, "min_samples"), 1, 1000000)) {
        d->min_samples = static_cast<size_t>(*v);
      }
    }
    if (node["dataset_drift_share"]) {
      if (auto v = Number(node["dataset_drift_share"], Join(path, "dataset_drift_share"))) {
        if (*v <= 0 || *v > 1) {
          Error(Join(path, "dataset_drift_share"), "expected a share in (0, 1]");
        } else {
          d->dataset_drift_share = *v;
        }
      }
    }
    if (node["bonferroni"]) {
      if (auto v = Bool(node["bonferroni"], Join(path, "bonferroni"))) d->bonferroni = *v;
    }
    if (node["psi_bins"]) {
      if (auto v = Integer(node["psi_bins"], Join(path, "psi_bins"), 2, 1000)) {
        d->psi_bins = static_cast<int>(*v);
      }
    }
    if (node["max_categories"]) {
      if (auto v = Integer(node["max_categories"], Join(path, "max_categories"), 1, 10000)) {
        d->max_categories = static_cast<size_t>(*v);
      }
    }
    if (node["monitor_prediction"]) {
      if (auto v = Bool(node["monitor_prediction"], Join(path, "monitor_prediction"))) {
        d->monitor_prediction = *v;
      }
    }
  }

  void Performance(const YAML::Node& node, const std::string& path, PerformanceConfig* p) {
    if (!node.IsMap()) {
      Error(path, "expected a mapping, got " + Describe(node));
      return;
    }
    CheckKeys(node, path,
              {"window_size", "window_duration", "prediction_ttl", "label_ttl", "max_pending",
               "max_pending_labels", "baseline", "experiment"});
    if (node["baseline"]) {
      const std::string bp = Join(path, "baseline");
      static const std::set<std::string> kMetrics = {
          "accuracy", "precision", "recall", "f1", "roc_auc", "log_loss",
          "mae",      "mse",       "rmse",   "r2", "mape",    "mean_error"};
      if (!node["baseline"].IsMap()) {
        Error(bp, "expected a mapping of metric to value, got " + Describe(node["baseline"]));
      } else {
        for (const auto& kv : node["baseline"]) {
          const std::string metric = kv.first.Scalar();
          if (!kMetrics.count(metric)) {
            Error(Join(bp, metric),
                  "expected a performance metric accuracy|precision|recall|f1|"
                  "roc_auc|log_loss|mae|mse|rmse|r2|mape|mean_error");
            continue;
          }
          if (auto v = Number(kv.second, Join(bp, metric))) p->baseline[metric] = *v;
        }
      }
    }
    if (node["experiment"]) {
      const std::string ep = Join(path, "experiment");
      const YAML::Node e = node["experiment"];
      if (!e.IsMap() || !e["control"] || !e["challenger"]) {
        Error(ep, "expected {control: VERSION, challenger: VERSION}");
      } else {
        CheckKeys(e, ep, {"control", "challenger"});
        auto control = String(e["control"], Join(ep, "control"));
        auto challenger = String(e["challenger"], Join(ep, "challenger"));
        if (control && challenger) {
          if (*control == *challenger) {
            Error(ep, "control and challenger must be different versions");
          } else {
            p->experiment_control = *control;
            p->experiment_challenger = *challenger;
          }
        }
      }
    }
    if (node["window_size"]) {
      if (auto v = Integer(node["window_size"], Join(path, "window_size"), 1, 1000000)) {
        p->window_size = static_cast<size_t>(*v);
      }
    }
    if (node["window_duration"]) {
      p->window_duration = Duration(node["window_duration"], Join(path, "window_duration"));
    }
    if (node["prediction_ttl"]) {
      if (auto v = Duration(node["prediction_ttl"], Join(path, "prediction_ttl"))) {
        p->prediction_ttl = *v;
      }
    }
    if (node["label_ttl"]) {
      if (auto v = Duration(node["label_ttl"], Join(path, "label_ttl"))) p->label_ttl = *v;
    }
    if (node["max_pending"]) {
      if (auto v = Integer(node["max_pending"], Join(path, "max_pending"), 1, 10000000)) {
        p->max_pending = static_cast<size_t>(*v);
      }
    }
    if (node["max_pending_labels"]) {
      if (auto v =
              Integer(node["max_pending_labels"], Join(path, "max_pending_labels"), 1, 10000000)) {
        p->max_pending_labels = static_cast<size_t>(*v);
      }
    }
  }

  void Root(const YAML::Node& root, Config* c) {
    if (!root.IsMap()) {
      Error("(root)", "expected a mapping with server and models, got " + Describe(root));
      return;
    }
    CheckKeys(root, "",
              {"server", "evaluation_interval", "log", "models", "alerts", "notify", "graphite",
               "state"});
    if (root["alerts"]) Alerts(root["alerts"], c);
    if (root["notify"]) Notify(root["notify"], &c->notify);
    if (root["graphite"]) Graphite(root["graphite"], &c->graphite);
    if (root["state"]) State(root["state"], &c->state);
    if (root["server"]) Server(root["server"], &c->server);
    if (root["evaluation_interval"]) {
      if (auto v = Duration(root["evaluation_interval"], "evaluation_interval")) {
        c->evaluation_interval = *v;
      }
    }
    if (root["log"]) Log(root["log"], c);
    if (!root["models"]) {
      Error("models", "is required (a list of monitored models)");
      return;
    }
    const YAML::Node models = root["models"];
    if (!models.IsSequence() || models.size() == 0) {
      Error("models", "expected a non-empty list, got " + Describe(models));
      return;
    }
    if (models.size() > 100) Error("models", "at most 100 models");
    std::set<std::string> names;
    for (size_t i = 0; i < models.size(); ++i) {
      ModelConfig m;
      const std::string path = "models[" + std::to_string(i) + "]";
      Model(models[i], path, &m);
      if (!m.name.empty() && !names.insert(m.name).second) {
        Error(path + ".name", "duplicate model \"" + m.name + "\"");
      }
      c->models.push_back(std::move(m));
    }
  }

  void Alerts(const YAML::Node& node, Config* c) {
    static const std::set<std::string> kMetrics = {"drift_statistic",
                                                   "drift_p_value",
                                                   "drift_detected",
                                                   "drift_features_drifted",
                                                   "dataset_drift_detected",
                                                   "missing_ratio",
                                                   "out_of_range_ratio",
                                                   "unseen_category_ratio",
                                                   "accuracy",
                                                   "precision",
                                                   "recall",
                                                   "f1",
                                                   "roc_auc",
                                                   "log_loss",
                                                   "mae",
                                                   "mse",
                                                   "rmse",
                                                   "r2",
                                                   "mape",
                                                   "mean_error",
                                                   "performance_degradation",
                                                   "ground_truth_pending"};
    if (!node.IsSequence()) {
      Error("alerts", "expected a list of rules, got " + Describe(node));
      return;
    }
    for (size_t i = 0; i < node.size(); ++i) {
      const std::string path = "alerts[" + std::to_string(i) + "]";
      const YAML::Node r = node[i];
      if (!r.IsMap()) {
        Error(path, "expected a mapping, got " + Describe(r));
        continue;
      }
      CheckKeys(r, path,
                {"name", "metric", "model", "feature", "test", "model_version", "labels", "op",
                 "threshold", "clear_threshold", "for", "min_samples", "severity", "annotations"});
      AlertRuleConfig a;
      for (const char* key : {"name", "metric", "op", "threshold"}) {
        if (!r[key]) Error(Join(path, key), "is required");
      }
      if (r["name"]) {
        if (auto v = String(r["name"], Join(path, "name"))) {
          a.name = *v;
          CheckName(a.name, Join(path, "name"));
        }
      }
      if (r["metric"]) {
        if (auto v = String(r["metric"], Join(path, "metric"))) {
          if (!kMetrics.count(*v)) {
            std::string names;
            for (const auto& m : kMetrics) names += (names.empty() ? "" : "|") + m;
            Error(Join(path, "metric"), "expected one of " + names + ", got \"" + *v + "\"");
          }
          a.metric = *v;
        }
      }
      for (const char* key : {"model", "feature", "test", "model_version"}) {
        if (!r[key]) continue;
        if (auto v = String(r[key], Join(path, key))) {
          if (*v != "*") a.matchers[key] = *v;
        }
      }
      if (r["labels"]) {
        if (!r["labels"].IsMap()) {
          Error(Join(path, "labels"), "expected a mapping of label to value");
        } else {
          for (const auto& kv : r["labels"]) {
            if (auto v = String(kv.second, Join(Join(path, "labels"), kv.first.Scalar()))) {
              if (*v != "*") a.matchers[kv.first.Scalar()] = *v;
            }
          }
        }
      }
      if (r["op"]) {
        if (auto v = String(r["op"], Join(path, "op"))) {
          if (*v != "<" && *v != "<=" && *v != ">" && *v != ">=") {
            Error(Join(path, "op"), "expected <|<=|>|>=, got \"" + *v + "\"");
          }
          a.op = *v;
        }
      }
      if (r["threshold"]) {
        if (auto v = Number(r["threshold"], Join(path, "threshold"))) a.threshold = *v;
      }
      if (r["clear_threshold"]) {
        if (auto v = Number(r["clear_threshold"], Join(path, "clear_threshold"))) {
          const bool below = a.op == "<" || a.op == "<=";
          if ((below && *v < a.threshold) || (!below && *v > a.threshold)) {
            Error(Join(path, "clear_threshold"),
                  std::string("must be on the resolved side of threshold (") +
                      (below ? ">= " : "<= ") + "threshold for op " + a.op + ")");
          }
          a.clear_threshold = *v;
        }
      }
      if (r["for"]) {
        if (auto v = String(r["for"], Join(path, "for"))) {
          auto d = ParseDuration(*v);
          if (!d) {
            Error(Join(path, "for"),
                  "expected a duration such as 0s, 30s or 5m, got \"" + *v + "\"");
          } else {
            a.for_duration = *d;
          }
        }
      }
      if (r["min_samples"]) {
        if (auto v = Integer(r["min_samples"], Join(path, "min_samples"), 0, 100000000)) {
          a.min_samples = *v;
        }
      }
      if (r["severity"]) {
        if (auto v = String(r["severity"], Join(path, "severity"))) a.severity = *v;
      }
      if (r["annotations"]) {
        if (!r["annotations"].IsMap()) {
          Error(Join(path, "annotations"), "expected a mapping of name to text");
        } else {
          for (const auto& kv : r["annotations"]) {
            const std::string ap = Join(Join(path, "annotations"), kv.first.Scalar());
            if (auto v = String(kv.second, ap)) a.annotations[kv.first.Scalar()] = *v;
          }
        }
      }
      c->alerts.push_back(std::move(a));
    }
  }

  std::optional<std::string> Url(const YAML::Node& node, const std::string& path) {
    auto v = String(node, path);
    if (!v) return std::nullopt;
    if (v->rfind("http://", 0) != 0 || v->size() <= 7) {
      Error(path, "expected an http:// URL, got \"" + *v + "\"");
      return std::nullopt;
    }
    return v;
  }

  void Notify(const YAML::Node& node, NotifierConfig* n) {
    if (!node.IsMap()) {
      Error("notify", "expected a mapping, got " + Describe(node));
      return;
    }
    CheckKeys(node, "notify",
              {"alertmanager_url", "webhook_url", "external_url", "resend_interval", "timeout",
               "max_queue"});
    if (node["alertmanager_url"]) {
      if (auto v = Url(node["alertmanager_url"], "notify.alertmanager_url")) {
        n->alertmanager_url = *v;
      }
    }
    if (node["webhook_url"]) {
      if (auto v = Url(node["webhook_url"], "notify.webhook_url")) n->webhook_url = *v;
    }
    if (node["external_url"]) {
      if (auto v = Url(node["external_url"], "notify.external_url")) n->external_url = *v;
    }
    if (node["resend_interval"]) {
      if (auto v = Duration(node["resend_interval"], "notify.resend_interval")) {
        n->resend_interval = *v;
      }
    }
    if (node["timeout"]) {
      if (auto v = Duration(node["timeout"], "notify.timeout")) n->timeout = *v;
    }
    if (node["max_queue"]) {
      if (auto v = Integer(node["max_queue"], "notify.max_queue", 1, 1000000)) {
        n->max_queue = static_cast<size_t>(*v);
      }
    }
  }

  void Graphite(const YAML::Node& node, GraphiteConfig* g) {
    if (!node.IsMap()) {
      Error("graphite", "expected a mapping {address, prefix, interval}, got " + Describe(node));
      return;
    }
    CheckKeys(node, "graphite", {"address", "prefix", "interval"});
    if (!node["address"]) {
      Error("graphite.address", "is required (host:port of a carbon plaintext listener)");
    } else if (auto v = String(node["address"], "graphite.address")) {
      const auto colon = v->rfind(':');
      auto port = colon == std::string::npos ? std::nullopt
                                             : Integer(YAML::Node(v->substr(colon + 1)),
                                                       "graphite.address (port)", 1, 65535);
      if (colon == std::string::npos || colon == 0) {
        Error("graphite.address", "expected host:port, got \"" + *v + "\"");
      } else if (port) {
        g->host = v->substr(0, colon);
        g->port = static_cast<uint16_t>(*port);
      }
    }
    if (node["prefix"]) {
      if (auto v = String(node["prefix"], "graphite.prefix")) {
        g->prefix = *v;
        CheckName(g->prefix, "graphite.prefix");
      }
    }
    if (node["interval"]) {
      if (auto v = Duration(node["interval"], "graphite.interval")) g->interval = *v;
    }
  }

  void State(const YAML::Node& node, StateConfig* s) {
    if (!node.IsMap()) {
      Error("state",
            "expected a mapping {snapshot_path, snapshot_interval}, got " + Describe(node));
      return;
    }
    CheckKeys(node, "state", {"snapshot_path", "snapshot_interval"});
    if (node["snapshot_path"]) {
      if (auto v = String(node["snapshot_path"], "state.snapshot_path")) {
        if (v->find('\0') != std::string::npos) {
          Error("state.snapshot_path", "must not contain NUL characters");
        } else if (!v->empty() && v->back() == '/') {
          Error("state.snapshot_path", "expected a file path, got the directory \"" + *v + "\"");
        } else {
          s->snapshot_path = *v;
        }
      }
    }
    if (node["snapshot_interval"]) {
      if (auto v = Duration(node["snapshot_interval"], "state.snapshot_interval")) {
        if (*v < std::chrono::milliseconds(100)) {
          Error("state.snapshot_interval", "must be at least 100ms");
        } else {
          s->snapshot_interval = *v;
        }
      }
    }
  }

  void Log(const YAML::Node& node, Config* c) {
    if (!node.IsMap()) {
      Error("log", "expected a mapping {format, level}, got " + Describe(node));
      return;
    }
    CheckKeys(node, "log", {"format", "level"});
    if (node["format"]) {
      if (auto v = String(node["format"], "log.format")) {
        if (*v == "text") {
          c->log_format = LogFormat::kText;
        } else if (*v == "json") {
          c->log_format = LogFormat::kJson;
        } else {
          Error("log.format", "expected text|json, got \"" + *v + "\"");
        }
      }
    }
    if (node["level"]) {
      if (auto v = String(node["level"], "log.level")) {
        static const std::set<std::string> kLevels = {"trace", "debug", "info",
                                                      "warn",  "error", "off"};
        if (!kLevels.count(*v)) {
          Error("log.level", "expected trace|debug|info|warn|error|off, got \"" + *v + "\"");
        } else {
          c->log_level = *v;
        }
      }
    }
  }
};

}  // namespace

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
  Reader reader;
  Config config;
  config.source_path = source_path;
  try {
    reader.Root(root, &config);
  } catch (const YAML::Exception& e) {
    reader.Error("(yaml)", e.what());
  }
  if (reader.errors.empty()) {
    result.config = std::move(config);
  } else {
    result.errors = std::move(reader.errors);
  }
  return result;
}

ConfigResult LoadConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ConfigResult result;
    result.errors.push_back(path + ": cannot open file");
    return result;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return LoadConfigString(buffer.str(), path);
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
