#ifndef MODELMON_CONFIG_YAML_READER_H_
#define MODELMON_CONFIG_YAML_READER_H_

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// YAML primitives of the configuration readers. yaml-cpp appears in src/config only.

namespace modelmon::config {

// How an error message shows a node: null, a list, a mapping, "text" for a scalar.
std::string Describe(const YAML::Node& node);

// The key path of `key` under `path` ("server" + "threads" -> "server.threads"; "" + "k" -> "k").
std::string Join(const std::string& path, const std::string& key);

// The error message for a duration written as a bare number: "a bare number is not a duration;
// write 10s (or 10ms, 10m, 10h, 10d)".
std::string BareNumberDurationMessage(const std::string& text);

// Typed reads of YAML nodes that never throw: each read either returns its value or records one
// error "key.path: expected ..., got ..." and returns nullopt. String scalars are expanded from
// the environment first (${NAME}, ${NAME:-default}), so every typed read accepts a reference.
// Not thread-safe: one reader per load.
class YamlReader {
 public:
  // Records "path: message".
  void Error(const std::string& path, const std::string& message);

  // Every error recorded so far, in the order found.
  const std::vector<std::string>& errors() const { return errors_; }
  std::vector<std::string> TakeErrors() { return std::move(errors_); }

  // Records an "unknown key" error for each key of mapping `node` not in `allowed`, listing the
  // allowed keys in the given order. No-op when `node` is not a mapping.
  void CheckKeys(const YAML::Node& node, const std::string& path,
                 std::initializer_list<std::string_view> allowed);

  // Records "PATH: duplicate key (...)" for every key that appears twice in one mapping anywhere
  // under `node` (YAML 1.2 requires unique keys; yaml-cpp would silently use the first). Walks at
  // most kMaxCheckedNodes nodes and kMaxCheckedDepth levels, so aliases cannot make it expensive.
  void CheckDuplicateKeys(const YAML::Node& node, const std::string& path);
  static constexpr size_t kMaxCheckedNodes = size_t{1} << 16;
  static constexpr int kMaxCheckedDepth = 64;

  // Expands ${NAME} and ${NAME:-default} from the environment; other text (also a "${" that opens
  // no reference) is kept as it is. An unset variable without a default is an error.
  std::optional<std::string> Expand(const std::string& value, const std::string& path);

  // A scalar, expanded.
  std::optional<std::string> String(const YAML::Node& node, const std::string& path);
  // A finite decimal number (strtod syntax, whole text).
  std::optional<double> Number(const YAML::Node& node, const std::string& path);
  // A base-10 integer within [lo, hi].
  std::optional<int64_t> Integer(const YAML::Node& node, const std::string& path, int64_t lo,
                                 int64_t hi);
  // true or false, nothing else.
  std::optional<bool> Bool(const YAML::Node& node, const std::string& path);
  // A positive duration in ParseDuration syntax (500ms, 10s, 5m, 1h, 7d).
  std::optional<std::chrono::milliseconds> Duration(const YAML::Node& node,
                                                    const std::string& path);
  // A list of scalars; stops at the first element that is not one.
  std::optional<std::vector<std::string>> Strings(const YAML::Node& node, const std::string& path);
  // A scalar starting with http:// and naming something after it.
  std::optional<std::string> Url(const YAML::Node& node, const std::string& path);

  // Names become label values and JSON keys: records an error unless `name` is 1-128 characters
  // from [A-Za-z0-9_.:-].
  void CheckName(const std::string& name, const std::string& path);

 private:
  std::vector<std::string> errors_;
};

}  // namespace modelmon::config

#endif  // MODELMON_CONFIG_YAML_READER_H_
