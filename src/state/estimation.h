#ifndef MODELMON_STATE_ESTIMATION_H_
#define MODELMON_STATE_ESTIMATION_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ingest/event.h"
#include "ingest/reference_reader.h"
#include "ingest/schema.h"
#include "performance/classification.h"
#include "performance/confidence_estimation.h"
#include "performance/multiclass_estimation.h"

namespace modelmon::state {

// Scored predictions of a window, oldest first: binary rows carry `scores` (the positive class's
// score), multiclass rows `class_scores` (K per row). Plain data.
struct ScoredRows {
  std::vector<int32_t> predicted;  // Class indices.
  std::vector<double> scores;
  std::vector<std::vector<double>> class_scores;
  std::vector<int32_t> labels;  // Only for labelled rows (reference, joined pairs).
  size_t size() const { return predicted.size(); }
};

// One estimated metric of a window. Plain data.
struct EstimatedMetric {
  std::string metric;           // One of kEstimatedMetrics.
  std::optional<double> value;  // Estimated over the drift window.
  // Sampling-error band: value +/- 3 standard errors at the window's size.
  std::optional<double> lower, upper;
  // The realized value on the reference, and the alert band around it: reference +/- 3 standard
  // errors at the window's size. `alert` when value lies outside it.
  std::optional<double> reference;
  std::optional<double> threshold_lower, threshold_upper;
  bool alert = false;
  // Over the window of joined pairs (labels known): the realized value, the estimate from the
  // same pairs' scores, and estimate minus realized.
  std::optional<double> realized;
  std::optional<double> estimated_on_joined;
  std::optional<double> error;
  size_t joined_samples = 0;
};

// What GET /v1/models/{name} shows of label-free estimation. Plain data.
struct EstimationResult {
  // "ok", "insufficient_data" (fewer scored events than min_samples), "no_reference" (no
  // reference yet), or "unavailable" (the reference cannot calibrate; `reason` says why).
  std::string status;
  std::string reason;
  size_t samples = 0;  // Scored events of the window the estimate used.
  std::vector<EstimatedMetric> metrics;
};

// The realized confusion-matrix metrics and ROC AUC of labelled rows, by kEstimatedMetrics name
// (binary: class 1 is positive, rows' scores; multiclass: one-vs-rest macro averages, rows'
// class_scores, a macro value absent when any class's is). A metric with a zero denominator is
// absent. Pure. O(n log n).
std::map<std::string, double> RealizedMetrics(const ScoredRows& rows, bool multiclass);

// Confidence-based performance estimation of one classifier, fitted on the labelled, scored rows
// of a reference: a performance::BinaryConfidenceEstimator (binary; labels and predictions as
// positive-class indicators) or a MulticlassConfidenceEstimator. Immutable after Fit; safe for
// concurrent const use.
class FittedEstimation {
 public:
  // nullptr with *reason set when the reference has no labelled, scored rows (or fewer than 2
  // classes) or the fit fails. O(n log n) per class.
  static std::shared_ptr<const FittedEstimation> Fit(
      const ingest::ModelSchema& schema, const std::vector<ingest::ReferenceOutputs>& reference,
      std::string* reason);

  // Estimates the configured metrics of `window` (and of `joined` for the estimation error).
  // Precondition: window.size() >= 1.
  EstimationResult Estimate(const ScoredRows& window, const ScoredRows& joined) const;

  size_t reference_rows() const { return reference_rows_; }

 private:
  FittedEstimation() = default;
  // Estimated metrics of rows by name, with their standard errors at rows.size().
  void EstimateRows(const ScoredRows& rows, std::map<std::string, double>* values,
                    std::map<std::string, double>* errors) const;

  bool multiclass_ = false;
  std::vector<std::string> metrics_;
  std::optional<performance::BinaryConfidenceEstimator> binary_;
  std::optional<performance::MulticlassConfidenceEstimator> multiclass_estimator_;
  std::map<std::string, double> reference_values_;
  size_t reference_rows_ = 0;
};

// The scored predictions of the drift window: one entry per prediction event, with the same
// capacity and the same expiry by arrival as DriftColumns, so that it holds the same events.
// Memory: capacity x (K + 2) x 8 bytes. O(K) per event. Not thread-safe; the owner serialises
// access.
class ScoreWindow {
 public:
  ScoreWindow(const ingest::ModelSchema& schema);

  void Add(const ingest::PredictionEvent& event, std::chrono::steady_clock::time_point arrival);
  void ExpireBefore(std::chrono::steady_clock::time_point cutoff);
  // The events with scores (binary: a score; multiclass: every class score), oldest first.
  ScoredRows Rows() const;
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::chrono::steady_clock::time_point arrival;
    int32_t predicted;
    double score;  // NaN when absent.
    std::vector<double> class_scores;
  };
  bool binary_;
  int32_t positive_;
  size_t capacity_;
  std::deque<Entry> entries_;
};

// The labelled pairs of the joined window as ScoredRows (binary: labels and predictions as
// positive-class indicators); pairs without the scores the estimate needs are skipped.
ScoredRows JoinedRows(const ingest::ModelSchema& schema,
                      const std::vector<performance::ClassificationSample>& pairs);

}  // namespace modelmon::state

#endif  // MODELMON_STATE_ESTIMATION_H_
