#include "config/yaml_reader.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "config/durations.h"

namespace modelmon::config {

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

std::string BareNumberDurationMessage(const std::string& text) {
  return "a bare number is not a duration; write " + text + "s (or " + text + "ms, " + text +
         "m, " + text + "h, " + text + "d)";
}

std::string Join(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

void YamlReader::Error(const std::string& path, const std::string& message) {
  errors_.push_back(path + ": " + message);
}

void YamlReader::CheckKeys(const YAML::Node& node, const std::string& path,
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

void YamlReader::CheckDuplicateKeys(const YAML::Node& root, const std::string& root_path) {
  size_t visited = 0;
  // Explicit stack of (node, path, depth): no recursion on attacker-shaped input.
  std::vector<std::tuple<YAML::Node, std::string, int>> todo;
  todo.emplace_back(root, root_path, 0);
  while (!todo.empty() && visited < kMaxCheckedNodes) {
    auto [node, path, depth] = std::move(todo.back());
    todo.pop_back();
    ++visited;
    if (depth >= kMaxCheckedDepth) continue;
    if (node.IsMap()) {
      std::set<std::string> seen;
      for (const auto& kv : node) {
        const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : std::string();
        if (kv.first.IsScalar() && !seen.insert(key).second) {
          Error(Join(path, key), "duplicate key (line " + std::to_string(kv.first.Mark().line + 1) +
                                     "); each key may appear once");
        }
        todo.emplace_back(kv.second, Join(path, key), depth + 1);
      }
    } else if (node.IsSequence()) {
      for (size_t i = 0; i < node.size(); ++i) {
        todo.emplace_back(node[i], path + "[" + std::to_string(i) + "]", depth + 1);
      }
    }
  }
}

std::optional<std::string> YamlReader::Expand(const std::string& value, const std::string& path) {
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

std::optional<std::string> YamlReader::String(const YAML::Node& node, const std::string& path) {
  if (!node.IsScalar()) {
    Error(path, "expected a string, got " + Describe(node));
    return std::nullopt;
  }
  return Expand(node.Scalar(), path);
}

std::optional<double> YamlReader::Number(const YAML::Node& node, const std::string& path) {
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

std::optional<int64_t> YamlReader::Integer(const YAML::Node& node, const std::string& path,
                                           int64_t lo, int64_t hi) {
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

std::optional<bool> YamlReader::Bool(const YAML::Node& node, const std::string& path) {
  auto s = String(node, path);
  if (!s) return std::nullopt;
  if (*s == "true") return true;
  if (*s == "false") return false;
  Error(path, "expected true|false, got " + Describe(node));
  return std::nullopt;
}

std::optional<std::chrono::milliseconds> YamlReader::Duration(const YAML::Node& node,
                                                              const std::string& path) {
  auto s = String(node, path);
  if (!s) return std::nullopt;
  if (IsBareNumberDuration(*s)) {
    Error(path, BareNumberDurationMessage(*s));
    return std::nullopt;
  }
  auto d = ParseDuration(*s);
  if (!d || d->count() <= 0) {
    Error(path,
          "expected a positive duration such as 500ms, 10s, 5m, 1h or 7d, got " + Describe(node));
    return std::nullopt;
  }
  return d;
}

std::optional<std::vector<std::string>> YamlReader::Strings(const YAML::Node& node,
                                                            const std::string& path) {
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

std::optional<std::string> YamlReader::Url(const YAML::Node& node, const std::string& path) {
  auto v = String(node, path);
  if (!v) return std::nullopt;
  if (v->rfind("http://", 0) != 0 || v->size() <= 7) {
    Error(path, "expected an http:// URL, got \"" + *v + "\"");
    return std::nullopt;
  }
  return v;
}

void YamlReader::CheckName(const std::string& name, const std::string& path) {
  const bool valid =
      !name.empty() && name.size() <= 128 && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '.' || c == ':' || c == '-';
      });
  if (!valid) {
    Error(path, "expected 1-128 characters from [A-Za-z0-9_.:-], got \"" + name + "\"");
  }
}

}  // namespace modelmon::config
