#include "state/multivariate_drift.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>

namespace modelmon::state {

std::shared_ptr<const FittedMultivariate> FittedMultivariate::Fit(const ingest::ModelSchema& schema,
                                                                  const ReferenceData& reference,
                                                                  std::string* reason) {
  if (!reference.has_rows()) {
    *reason = "the reference has no rows (references restored from a snapshot keep counts only)";
    return nullptr;
  }
  const ModelConfig& config = schema.config();
  std::shared_ptr<FittedMultivariate> fit(new FittedMultivariate());
  for (size_t f = 0; f < config.features.size(); ++f) {
    (config.features[f].type == FeatureType::kNumerical ? fit->numerical_ : fit->categorical_)
        .push_back(f);
  }
  const size_t n = reference.row_count();
  for (size_t f : fit->numerical_) {
    double sum = 0;
    size_t count = 0;
    for (size_t r = 0; r < n; ++r) {
      const double v = reference.row_number(r, f);
      if (std::isfinite(v)) {
        sum += v;
        ++count;
      }
    }
    fit->means_.push_back(count > 0 ? sum / static_cast<double>(count) : 0.0);
  }
  for (size_t f : fit->categorical_) {
    ingest::StringMap<int64_t> counts;
    for (size_t r = 0; r < n; ++r) {
      const std::string& v = reference.row_category(r, f);
      if (!v.empty()) ++counts[v];
    }
    std::vector<std::pair<std::string, int64_t>> sorted(counts.begin(), counts.end());
    std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    if (sorted.size() > config.drift.max_categories) sorted.resize(config.drift.max_categories);
    ingest::StringMap<bool> kept;
    for (const auto& [name, count] : sorted) kept.emplace(name, true);
    fit->modes_.push_back(sorted.empty() ? std::string(kOtherCategory) : sorted.front().first);
    fit->kept_.push_back(std::move(kept));
  }
  const MultivariateDriftConfig& mv = config.drift.multivariate;
  size_t chunk = mv.chunk_size > 0 ? mv.chunk_size : config.window.size;
  if (n < 2 * chunk) chunk = n / 2;
  if (chunk == 0) {
    *reason = "the reference needs at least 2 rows";
    return nullptr;
  }
  detectors::FeatureRows rows;
  for (size_t r = 0; r < n; ++r) {
    if (!fit->numerical_.empty()) {
      auto& row = rows.numerical.emplace_back();
      for (size_t f : fit->numerical_) row.push_back(reference.row_number(r, f));
    }
    if (!fit->categorical_.empty()) {
      auto& row = rows.categorical.emplace_back();
      for (size_t f : fit->categorical_) row.push_back(reference.row_category(r, f));
    }
  }
  fit->Impute(&rows);
  fit->drift_ = detectors::ReconstructionDrift::Fit(rows, chunk, mv.explained_variance);
  if (!fit->drift_) {
    *reason = "PCA could not be fitted on the reference";
    return nullptr;
  }
  fit->chunk_size_ = chunk;
  return fit;
}

void FittedMultivariate::Impute(detectors::FeatureRows* rows) const {
  for (auto& row : rows->numerical) {
    for (size_t i = 0; i < row.size(); ++i) {
      if (!std::isfinite(row[i])) row[i] = means_[i];
    }
  }
  for (auto& row : rows->categorical) {
    for (size_t i = 0; i < row.size(); ++i) {
      if (row[i].empty()) {
        row[i] = modes_[i];
      } else if (!kept_[i].count(row[i])) {
        row[i] = kOtherCategory;
      }
    }
  }
}

MultivariateResult FittedMultivariate::Evaluate(const DriftColumns::WindowExport& window) const {
  MultivariateResult out;
  out.status = "ok";
  out.components = drift_->components();
  out.encoded_width = drift_->encoded_width();
  out.chunk_size = chunk_size_;
  out.lower_threshold = drift_->lower_threshold();
  out.upper_threshold = drift_->upper_threshold();
  const size_t n = window.arrivals.size();
  out.samples = n;
  if (n == 0) return out;
  detectors::FeatureRows rows;
  for (size_t r = 0; r < n; ++r) {
    if (!numerical_.empty()) {
      auto& row = rows.numerical.emplace_back();
      for (size_t f : numerical_) row.push_back(window.columns[f].numbers[r]);
    }
    if (!categorical_.empty()) {
      auto& row = rows.categorical.emplace_back();
      for (size_t f : categorical_) {
        const auto& col = window.columns[f];
        const uint32_t id = col.ids[r];
        row.push_back(id < col.names.size() ? col.names[id] : std::string());
      }
    }
  }
  Impute(&rows);
  if (auto e = drift_->MeanError(rows)) {
    out.error = *e;
    out.detected = drift_->Drifted(*e);
  } else {
    out.status = "unavailable";
    out.reason = "the window could not be encoded";
  }
  return out;
}

}  // namespace modelmon::state
