#include "ingest/schema.h"

namespace modelmon::ingest {

ModelSchema::ModelSchema(const ModelConfig& config) : config_(config) {
  for (size_t i = 0; i < config_.features.size(); ++i) {
    columns_.push_back({config_.features[i].name, config_.features[i].type});
    feature_index_.emplace(config_.features[i].name, i);
  }
  for (size_t i = 0; i < config_.classes.size(); ++i) {
    class_index_.emplace(config_.classes[i], static_cast<int32_t>(i));
    if (config_.classes[i] == config_.positive_class) positive_class_ = static_cast<int32_t>(i);
  }
  if (config_.drift.monitor_prediction) {
    prediction_column_ = columns_.size();
    columns_.push_back({kPredictionFeature,
                        is_classification() ? FeatureType::kCategorical : FeatureType::kNumerical});
    if (config_.task == Task::kBinaryClassification) {
      score_column_ = columns_.size();
      columns_.push_back({kScoreFeature, FeatureType::kNumerical});
    }
  }
}

std::optional<size_t> ModelSchema::FeatureIndex(std::string_view name) const {
  auto it = feature_index_.find(name);
  if (it == feature_index_.end()) return std::nullopt;
  return it->second;
}

std::optional<int32_t> ModelSchema::ClassIndex(std::string_view name) const {
  auto it = class_index_.find(name);
  if (it == class_index_.end()) return std::nullopt;
  return it->second;
}

}  // namespace modelmon::ingest
