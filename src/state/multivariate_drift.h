#ifndef MODELMON_STATE_MULTIVARIATE_DRIFT_H_
#define MODELMON_STATE_MULTIVARIATE_DRIFT_H_

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "detectors/reconstruction.h"
#include "ingest/schema.h"
#include "state/drift_columns.h"
#include "state/reference_data.h"

namespace modelmon::state {

// What GET /v1/models/{name} shows of multivariate drift. Plain data.
struct MultivariateResult {
  // "ok", "insufficient_data" (fewer window events than drift.min_samples), "no_reference", or
  // "unavailable" (`reason` says why: no row-wise reference, too few rows, constant data).
  std::string status;
  std::string reason;
  size_t samples = 0;     // Window events evaluated.
  size_t components = 0;  // PCA components kept.
  size_t encoded_width = 0;
  size_t chunk_size = 0;  // Rows per reference chunk of the thresholds.
  double error = 0;       // Mean reconstruction error of the window.
  double lower_threshold = 0, upper_threshold = 0;
  bool detected = false;
};

// Data reconstruction drift of one model's configured features (detectors::ReconstructionDrift)
// fitted on a reference's rows. Missing values are imputed as NannyML does: a numerical feature
// with its reference mean, a categorical one with its most frequent reference category. Each
// categorical feature keeps its drift.max_categories most frequent reference categories (ties by
// name); the others, and unseen ones, share one "__other__" category, so the encoded width is
// bounded by numerical features + categorical features x (max_categories + 1). Immutable after
// Fit; safe for concurrent const use.
class FittedMultivariate {
 public:
  // nullptr with *reason set when the reference has no rows (a reference restored from a
  // snapshot), fewer than two chunks, or the PCA fit fails. O(n d^2 + d^3).
  static std::shared_ptr<const FittedMultivariate> Fit(const ingest::ModelSchema& schema,
                                                       const ReferenceData& reference,
                                                       std::string* reason);

  // Evaluates the window (DriftColumns::ExportWindow() of the same schema). O(W d k).
  MultivariateResult Evaluate(const DriftColumns::WindowExport& window) const;

  const detectors::ReconstructionDrift& drift() const { return *drift_; }
  size_t chunk_size() const { return chunk_size_; }

 private:
  FittedMultivariate() = default;
  // Row r's features in the encoder's layout, missing values imputed.
  void Impute(detectors::FeatureRows* rows) const;

  std::vector<size_t> numerical_, categorical_;  // Feature indices of each kind.
  std::vector<double> means_;                    // Per numerical feature.
  std::vector<std::string> modes_;               // Per categorical feature.
  std::vector<ingest::StringMap<bool>> kept_;    // Per categorical feature: its top categories.
  std::optional<detectors::ReconstructionDrift> drift_;
  size_t chunk_size_ = 0;
};

inline constexpr const char* kOtherCategory = "__other__";

}  // namespace modelmon::state

#endif  // MODELMON_STATE_MULTIVARIATE_DRIFT_H_
