#ifndef MODELMON_INGEST_SCHEMA_H_
#define MODELMON_INGEST_SCHEMA_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "modelmon/config.h"

namespace modelmon::ingest {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
template <typename V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

// The longest category value accepted, in bytes: in events and in references alike.
inline constexpr size_t kMaxCategoryBytes = 1024;

// The one validator of category values (categorical features of events, and of reference CSV and
// JSON lines): nullopt when `text` may be a category, otherwise why not: longer than
// kMaxCategoryBytes, not valid UTF-8 (RFC 3629: no overlong forms, surrogates or code points above
// U+10FFFF), or equal to the overflow bin's label "__other__"
// (detectors::CategoricalReference::kOtherBucket), which a category may not take because its
// counts would merge with those of every category outside the reference's kept ones. The message
// has no key path; callers prefix one. Pure, thread-safe; O(text size).
std::optional<std::string> CategoryProblem(std::string_view text);

// Whether `text` is valid UTF-8 (RFC 3629). Pure, thread-safe; O(text size).
bool IsValidUtf8(std::string_view text);

// A monitored column: a configured feature, or the prediction / score monitored as a
// pseudo-feature.
struct Column {
  std::string name;
  FeatureType type;
};

// What an event of one model must look like, derived once from its ModelConfig. Immutable after
// construction; safe to share across threads.
class ModelSchema {
 public:
  explicit ModelSchema(const ModelConfig& config);

  const ModelConfig& config() const { return config_; }
  const std::string& name() const { return config_.name; }
  Task task() const { return config_.task; }
  bool is_classification() const { return config_.task != Task::kRegression; }

  // Columns in a fixed order: the configured features, then (when monitored) the prediction and,
  // for binary classification, the score.
  const std::vector<Column>& columns() const { return columns_; }
  size_t num_features() const { return config_.features.size(); }
  std::optional<size_t> prediction_column() const { return prediction_column_; }
  std::optional<size_t> score_column() const { return score_column_; }
  // Index of the configured feature with this name.
  std::optional<size_t> FeatureIndex(std::string_view name) const;
  // Index of the class whose name is `name`; nullopt for unknown classes or regression.
  std::optional<int32_t> ClassIndex(std::string_view name) const;
  // Binary classification: index of the positive class.
  int32_t positive_class() const { return positive_class_; }

 private:
  ModelConfig config_;
  std::vector<Column> columns_;
  StringMap<size_t> feature_index_;
  StringMap<int32_t> class_index_;
  std::optional<size_t> prediction_column_;
  std::optional<size_t> score_column_;
  int32_t positive_class_ = 1;
};

}  // namespace modelmon::ingest

#endif  // MODELMON_INGEST_SCHEMA_H_
