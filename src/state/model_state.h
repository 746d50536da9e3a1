#ifndef MODELMON_STATE_MODEL_STATE_H_
#define MODELMON_STATE_MODEL_STATE_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/thread_annotations.h"
#include "ingest/event.h"
#include "ingest/schema.h"
#include "modelmon/clock.h"
#include "performance/join_store.h"
#include "state/daemon_metrics.h"
#include "state/drift_columns.h"
#include "state/estimation.h"
#include "state/model_metrics.h"
#include "state/multivariate_drift.h"
#include "state/performance_windows.h"
#include "state/reference_data.h"
#include "state/snapshot.h"
#include "state/target_drift.h"

namespace modelmon::state {

struct DriftTestResult {
  std::string test;
  double statistic = 0;
  std::optional<double> p_value;
  double threshold = 0;
  bool detected = false;
};

struct ColumnResult {
  std::string name;
  FeatureType type = FeatureType::kNumerical;
  bool is_prediction = false;  // The prediction or score pseudo-feature.
  // "ok", "insufficient_data" (fewer than min_samples values in the window) or "no_reference".
  std::string status;
  size_t window_samples = 0;     // Present (non-missing) values in the window.
  size_t reference_samples = 0;  // Present values in the reference.
  std::vector<DriftTestResult> tests;
  bool drifted = false;
  double missing_ratio = 0;
  double out_of_range_ratio = 0;       // Numerical.
  double unseen_ratio = 0;             // Categorical.
  std::optional<WindowStats> summary;  // Numerical with values in the window.
};

// What GET /v1/models/{name} shows. Plain data.
struct ModelStatus {
  std::string name;
  std::string task;
  size_t window_events = 0;
  size_t window_capacity = 0;
  std::string reference_state;  // "ready", "capturing" or "missing".
  size_t reference_rows = 0;
  size_t capture_target = 0;
  double evaluated_at = 0;  // Unix seconds of the last evaluation; 0 before the first.
  size_t features_evaluated = 0;
  size_t features_drifted = 0;
  bool dataset_drift = false;
  std::vector<ColumnResult> columns;  // Of the last evaluation.
  // Performance over joined pairs, as of the last evaluation.
  size_t pending_predictions = 0;  // Live: waiting for ground truth.
  size_t pending_labels = 0;       // Live: ground truth waiting for its prediction.
  std::vector<PerformanceResult> performance;
  std::optional<ExperimentResult> experiment;
  std::map<std::string, double> baseline;
  // Label-free estimation, multivariate drift and target drift, when configured.
  std::optional<EstimationResult> estimation;
  std::optional<MultivariateResult> multivariate;
  // Target drift as columns kLabelFeature and kPredictionVsLabelFeature (same tests and verdict
  // rules as features; not counted in the dataset drift).
  std::vector<ColumnResult> target;
};

// Live state of one monitored model: its reference, its sliding window of prediction events, the
// drift state of every column, its pending ground-truth joins, the last evaluation's results and
// its metric series (ModelMetrics). Thread-safe: all methods may be called concurrently; one mutex
// serialises them. Memory is bounded by the configured window size, column count and category
// limits.
class ModelState {
 public:
  // schema and metrics must outlive this object; clock too.
  ModelState(std::shared_ptr<const ingest::ModelSchema> schema, DaemonMetrics* metrics,
             const Clock* clock);
  ~ModelState();
  ModelState(const ModelState&) = delete;
  ModelState& operator=(const ModelState&) = delete;

  const ingest::ModelSchema& schema() const { return *schema_; }

  // Adds accepted prediction events (moved from) to the window, expiring the oldest as needed, and
  // to the reference while it is being captured. Events with an id wait for their ground truth.
  void AddPredictions(std::vector<ingest::PredictionEvent>& events) LOCKS_EXCLUDED(mu_);
  // Joins ground truth with waiting predictions (or keeps it waiting for them); joined pairs enter
  // the performance windows.
  void AddGroundTruth(const std::vector<ingest::GroundTruthEvent>& events) LOCKS_EXCLUDED(mu_);

  // Replaces the reference (from a file, an upload or a capture) and rebuilds every column's drift
  // state from the current window. Results are published at the next evaluation.
  void SetReference(ReferenceData data, const std::string& source) LOCKS_EXCLUDED(mu_);
  // Makes the current window the reference. False (with *error set) when the window is empty.
  bool PromoteWindow(std::string* error) LOCKS_EXCLUDED(mu_);

  // Expires old events, runs every drift test and publishes the results as metrics.
  void Evaluate() LOCKS_EXCLUDED(mu_);

  ModelStatus Status() const LOCKS_EXCLUDED(mu_);

  // Snapshot support. The raw state (reference in use, capture in progress, window, pending joins,
  // performance windows, learned baselines, version names), with ages relative to `now`. Copies
  // under the lock: O(window x columns + reference distinct values + pending + pairs).
  ModelSnapshot ExportSnapshot(std::chrono::steady_clock::time_point now) const LOCKS_EXCLUDED(mu_);
  // The snapshots of `models`, in order, as one consistent cut: every model's lock is taken (in
  // this order; nothing else holds two model locks, so this cannot deadlock), each model is
  // exported, and `at_cut` runs while all the locks are still held. Every model counter is updated
  // under its model's lock, so counters read by `at_cut` agree exactly with the exported states
  // (e.g. predictions with an id = joined + pending + expired + evicted + duplicates). Ingest into
  // every model waits for the whole copy. at_cut must not call into any ModelState.
  static std::vector<ModelSnapshot> ExportSnapshots(
      const std::vector<std::unique_ptr<ModelState>>& models,
      std::chrono::steady_clock::time_point now, const std::function<void()>& at_cut)
      MODELMON_THREAD_ANNOTATION(no_thread_safety_analysis);  // Locks a list of mutexes.
  // Replays a snapshot of this model (the caller checked its fingerprint) through the ordinary
  // paths: the reference (unless it came from the configured file, or the configured reference
  // changed), then the window, joins and pairs, with times now - downtime - age. Entries that do
  // not fit the schema are skipped. Ingest and join counters are not touched (a restored reference
  // counts as a reference update). Returns the window events restored.
  size_t ImportSnapshot(const ModelSnapshot& snapshot, std::chrono::nanoseconds downtime)
      LOCKS_EXCLUDED(mu_);

 private:
  using JoinStore = performance::JoinStore<PendingPrediction, PendingLabel>;
  static JoinStore::Options JoinOptionsFor(const PerformanceConfig& config);

  void ExpireLocked(std::chrono::steady_clock::time_point now) EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SetReferenceLocked(ReferenceData data, const std::string& source)
      EXCLUSIVE_LOCKS_REQUIRED(mu_);
  double ThresholdFor(const FeatureConfig* feature, const std::string& test,
                      size_t evaluated_columns) const;
  void CountJoinResultLocked(const JoinStore::Result& result, bool prediction,
                             std::chrono::steady_clock::time_point now)
      EXCLUSIVE_LOCKS_REQUIRED(mu_);
  ModelSnapshot ExportSnapshotLocked(std::chrono::steady_clock::time_point now) const
      EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Window, reference and join sizes as they are now.
  void FillLiveSizesLocked(ModelStatus* status) const EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool WantsReferenceFits() const;
  struct ReferenceFits;
  // Fills status->estimation, ->multivariate and ->target from the fits and the inputs copied
  // under the lock. Runs outside mu_.
  void EvaluateReferenceModels(const ReferenceFits* fits, bool has_reference,
                               const ScoredRows& window_scores,
                               const std::vector<JoinedPair>& joined,
                               const std::optional<DriftColumns::WindowExport>& rows,
                               ModelStatus* status) const;
  // Fits estimation, multivariate drift and target drift on a reference set since the last call,
  // outside mu_ (from Evaluate(), never on the ingest path). Precondition: evaluate_mu_ held.
  void FitPendingReference() LOCKS_EXCLUDED(mu_);
  // The fitted models of the reference in use, and why each is missing (when it is). Immutable
  // once installed; replaced as a whole.
  struct ReferenceFits {
    std::shared_ptr<const FittedEstimation> estimation;
    std::shared_ptr<const FittedMultivariate> multivariate;
    std::shared_ptr<const FittedTarget> target;
    std::string estimation_reason, multivariate_reason, target_reason;
  };

  const std::shared_ptr<const ingest::ModelSchema> schema_;
  const Clock* const clock_;

  std::mutex evaluate_mu_;  // Serialises Evaluate(); taken before mu_.
  mutable std::mutex mu_;
  ModelMetrics metrics_ GUARDED_BY(mu_);
  DriftColumns columns_ GUARDED_BY(mu_);
  std::optional<ReferenceData> capture_ GUARDED_BY(mu_);
  size_t reference_rows_ GUARDED_BY(mu_) = 0;
  // Where the reference came from, and its category counts per column (empty for numerical
  // columns; numerical values stay in the detectors), for snapshots.
  std::string reference_source_ GUARDED_BY(mu_);
  std::vector<std::vector<std::pair<std::string, int64_t>>> reference_categories_ GUARDED_BY(mu_);
  ModelStatus last_ GUARDED_BY(mu_);
  JoinStore join_ GUARDED_BY(mu_);
  // DriftColumns::Add() outputs of AddPredictions(), kept between calls.
  std::vector<uint8_t> flags_ GUARDED_BY(mu_);
  std::vector<uint32_t> bins_ GUARDED_BY(mu_);
  PerformanceWindows performance_ GUARDED_BY(mu_);
  // Scored predictions of the window (label-free estimation only).
  std::optional<ScoreWindow> scores_ GUARDED_BY(mu_);
  // A reference waiting for its fits (set by SetReferenceLocked), its generation, and the fits of
  // the reference in use (null before the first fit).
  std::shared_ptr<const ReferenceData> pending_fit_ GUARDED_BY(mu_);
  uint64_t reference_generation_ GUARDED_BY(mu_) = 0;
  std::shared_ptr<const ReferenceFits> fits_ GUARDED_BY(mu_);
};

}  // namespace modelmon::state

#endif  // MODELMON_STATE_MODEL_STATE_H_
