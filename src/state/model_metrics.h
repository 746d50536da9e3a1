#ifndef MODELMON_STATE_MODEL_METRICS_H_
#define MODELMON_STATE_MODEL_METRICS_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "ingest/schema.h"
#include "metrics/metrics.h"
#include "state/daemon_metrics.h"
#include "state/drift_columns.h"

namespace modelmon::state {

struct ModelStatus;

// The metric series of one monitored model and their updates: ingest and data-quality counters,
// window and reference gauges, the ground-truth join's counters, gauges and delay histogram,
// per-version series, the fleet view (a counter per reference bin and the reference shares), and
// the publication of an evaluation (drift series, ratios, summaries, verdicts). Handles are
// resolved once where their label values are fixed: at construction (model, columns), when the
// reference changes (bins), on a version's first event, and on a drift series' first evaluation;
// the ingest path then only increments resolved handles. Label values come from the configuration
// and from version names capped at max_versions, never from other request data.
// Not thread-safe: the owning ModelState calls it under its lock.
class ModelMetrics {
 public:
  // Series of one model_version label value.
  struct VersionMetrics {
    std::string label;  // The (capped) model_version label value.
    metrics::Counter predictions, errors;
    metrics::Histogram latency;
  };

  // schema and metrics must outlive this object.
  ModelMetrics(const ingest::ModelSchema& schema, DaemonMetrics* metrics);
  ModelMetrics(const ModelMetrics&) = delete;
  ModelMetrics& operator=(const ModelMetrics&) = delete;

  // A batch of prediction events: BeginBatch() clears the batch's tallies (O(columns + bins), no
  // allocation once their sizes are reached), Tally() counts one event's DriftColumns::Add()
  // outputs (O(columns)), EndBatch() adds the tallies to the counters and sets the window gauge.
  void BeginBatch();
  void Tally(const std::vector<uint8_t>& flags, const std::vector<uint32_t>& bins) {
    for (size_t c = 0; c < bins.size() && c < bin_counts_.size(); ++c) {
      if (bins[c] < bin_counts_[c].size()) ++bin_counts_[c][bins[c]];
    }
    for (size_t c = 0; c < flags.size(); ++c) {
      missing_[c] += (flags[c] & kMissing) ? 1 : 0;
      range_[c] += (flags[c] & kOutOfRange) ? 1 : 0;
      unseen_[c] += (flags[c] & kUnseenCategory) ? 1 : 0;
    }
  }
  void EndBatch(size_t events, size_t window_events);

  // The series of a model version. The first max_versions distinct names get their own series;
  // later ones share "__other__" and are not remembered, so memory and cardinality stay bounded.
  // The reference stays valid as long as this object. O(log versions).
  const VersionMetrics& Version(const std::string& version);
  // The version names seen so far that have a series ("__other__" included once used), sorted.
  std::vector<std::string> VersionNames() const;

  // A new reference of `rows` rows from `source`: sets the reference gauge, replaces the fleet
  // bin counters and reference shares with those of columns' bins, and counts the update.
  void ReferenceChanged(const DriftColumns& columns, size_t rows, const std::string& source);

  // The ground-truth join. `prediction` tells which kind of entry the count is about.
  void GroundTruthReceived(size_t events) const;
  void Evicted(bool prediction, size_t entries) const;
  void Duplicate(bool prediction) const;
  void Joined(double delay_seconds) const;
  void Expired(size_t predictions, size_t labels) const;

  // The window and pending-join gauges.
  void SetLiveSizes(size_t window_events, size_t pending_predictions, size_t pending_labels) const;

  // Publishes an evaluation: per column the data-quality ratios and window summary, per (column,
  // test) the drift series (created on first use; those not renewed by this evaluation are
  // removed), the model's verdict gauges, and the live sizes. O(columns x tests x log).
  void Publish(const ModelStatus& status, size_t pending_predictions, size_t pending_labels);
  void ObserveEvaluation(double seconds) const;

 private:
  // Series published by the last evaluation, keyed by (column, test); removed when a verdict is
  // withdrawn (insufficient data, reference replaced).
  struct PublishedDrift {
    metrics::Gauge statistic, p_value, threshold, detected, window, reference;
  };

  const ingest::ModelSchema& schema_;
  DaemonMetrics* const metrics_;
  const metrics::Labels model_labels_;

  metrics::Counter events_counter_;
  std::vector<metrics::Counter> missing_counter_, out_of_range_counter_, unseen_counter_;
  metrics::Gauge window_gauge_, reference_gauge_;
  metrics::Counter ground_truth_counter_, joined_counter_;
  metrics::Counter duplicate_predictions_, duplicate_labels_, evicted_predictions_, evicted_labels_;
  metrics::Counter expired_predictions_, expired_labels_;
  metrics::Gauge pending_predictions_gauge_, pending_labels_gauge_;
  metrics::Histogram delay_histogram_;

  std::map<std::string, VersionMetrics> versions_;
  // Fleet view: per column, a counter per reference bin, and the published reference shares.
  std::vector<std::vector<metrics::Counter>> bin_counters_;
  std::vector<metrics::Gauge> reference_shares_;

  // Tallies of the current batch, kept between batches so that their buffers are reused.
  std::vector<int64_t> missing_, range_, unseen_;
  std::vector<std::vector<int64_t>> bin_counts_;

  // Publishes status.estimation and status.multivariate, withdrawing the series not renewed.
  void PublishExtra(const ModelStatus& status);
  // Sets the gauge of (family, labels), created on first use, and records it in *still.
  void SetGauge(
      const metrics::GaugeFamily& family, const char* family_name, const metrics::Labels& labels,
      double value,
      std::map<std::string, std::pair<const metrics::GaugeFamily*, metrics::Gauge>>* still);
  // Estimation and multivariate series of the last evaluation, keyed by family name and labels.
  std::map<std::string, std::pair<const metrics::GaugeFamily*, metrics::Gauge>> published_extra_;

  std::map<std::pair<std::string, std::string>, PublishedDrift> published_;
  std::map<std::string, std::vector<metrics::Gauge>> published_columns_;
};

}  // namespace modelmon::state

#endif  // MODELMON_STATE_MODEL_METRICS_H_
