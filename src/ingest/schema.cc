#include "ingest/schema.h"

#include "detectors/drift.h"

namespace modelmon::ingest {

bool IsValidUtf8(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    unsigned char lo = 0x80;  // Bounds of the second byte (they exclude overlongs and surrogates).
    unsigned char hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;  // A continuation byte, C0/C1 (overlong) or F5..FF.
    }
    if (n - i < len) return false;
    if (p[i + 1] < lo || p[i + 1] > hi) return false;
    for (size_t k = 2; k < len; ++k) {
      if (p[i + k] < 0x80 || p[i + k] > 0xBF) return false;
    }
    i += len;
  }
  return true;
}

std::optional<std::string> CategoryProblem(std::string_view text) {
  if (text.size() > kMaxCategoryBytes) {
    return "category longer than " + std::to_string(kMaxCategoryBytes) + " bytes";
  }
  if (!IsValidUtf8(text)) return std::string("category is not valid UTF-8");
  if (text == detectors::CategoricalReference::kOtherBucket) {
    return "category \"" + std::string(text) +
           "\" is reserved: it labels the bin of categories outside the reference's kept ones";
  }
  return std::nullopt;
}

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
