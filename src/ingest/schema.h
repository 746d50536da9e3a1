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
