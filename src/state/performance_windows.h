#ifndef MODELMON_STATE_PERFORMANCE_WINDOWS_H_
#define MODELMON_STATE_PERFORMANCE_WINDOWS_H_

#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ingest/schema.h"
#include "performance/classification.h"
#include "performance/regression.h"
#include "state/daemon_metrics.h"

namespace modelmon::state {

// A joined (prediction, ground truth) pair as the performance windows keep it.
struct JoinedPair {
  std::chrono::steady_clock::time_point joined_at;
  performance::ClassificationSample classification;  // Classification tasks.
  double y_true = 0;                                 // Regression.
  double y_pred = 0;
};

// Results of one window, for the status API. Plain data.
struct PerformanceResult {
  std::string model_version;  // "__all__" for every version together.
  size_t samples = 0;
  std::optional<performance::ClassificationMetrics> classification;
  std::optional<performance::RegressionMetrics> regression;
};

struct ExperimentResult {
  std::string metric;  // "accuracy" or "mae".
  std::string control, challenger;
  double difference = 0;  // challenger - control
  std::optional<double> p_value;
  std::string unavailable;  // Why p_value is absent.
};

// Sliding windows of joined pairs: one over every version ("__all__") and one per version label
// (labels are already capped by the caller). Each keeps the last window_size pairs, and none older
// than window_duration when set. Publishes the metrics of every window, the baseline and
// degradation and the configured A/B experiment. Not thread-safe; the owner serialises access.
class PerformanceWindows {
 public:
  PerformanceWindows(const ingest::ModelSchema& schema, DaemonMetrics* metrics);
  ~PerformanceWindows();

  void Add(const std::string& version, JoinedPair pair);
  void ExpireBefore(std::chrono::steady_clock::time_point cutoff);

  // Computes every window's metrics and publishes them.
  void Publish();
  const std::vector<PerformanceResult>& results() const { return results_; }
  const std::optional<ExperimentResult>& experiment() const { return experiment_; }
  const std::map<std::string, double>& baseline() const { return baseline_; }

  // Snapshot support, apart from the metric path. The pairs of every window, in key order, oldest
  // first; the baselines learned from a window (configured ones excluded).
  std::vector<std::pair<std::string, std::vector<JoinedPair>>> ExportWindows() const;
  std::map<std::string, double> LearnedBaseline() const;
  // Appends pairs (oldest first) to one window, keeping its last window_size; unlike Add() the
  // other windows are untouched. Precondition: classification pairs hold valid class indices.
  void ImportWindow(const std::string& version, std::vector<JoinedPair> pairs);
  // Adopts a learned baseline for metrics without one (configured ones win).
  void ImportBaseline(const std::map<std::string, double>& learned);

 private:
  struct Window;
  Window& WindowFor(const std::string& version);
  void PublishWindow(const std::string& version, const Window& window, PerformanceResult* out);
  void PublishExperiment();

  const ingest::ModelSchema& schema_;
  DaemonMetrics* metrics_;
  std::map<std::string, std::unique_ptr<Window>> windows_;  // Key "__all__" and version labels.
  std::map<std::string, double> baseline_;                  // Configured or first full window.
  std::vector<PerformanceResult> results_;
  std::optional<ExperimentResult> experiment_;
};

inline constexpr const char* kAllVersions = "__all__";

// The headline value of each metric of a window (binary: the positive class; multiclass: macro
// averages), as baselines, degradation and alerts use them. Empty for an empty window.
std::map<std::string, double> HeadlineValues(const PerformanceResult& result, bool binary);

}  // namespace modelmon::state

#endif  // MODELMON_STATE_PERFORMANCE_WINDOWS_H_
