#include "state/model_metrics.h"

#include "state/model_state.h"

namespace modelmon::state {
namespace {

constexpr const char* kOtherVersion = "__other__";

}  // namespace

ModelMetrics::ModelMetrics(const ingest::ModelSchema& schema, DaemonMetrics* metrics)
    : schema_(schema), metrics_(metrics), model_labels_{{"model", schema.name()}} {
  const std::string& name = schema_.name();
  events_counter_ = metrics_->events.With({{"model", name}, {"kind", "prediction"}});
  for (const auto& column : schema_.columns()) {
    const metrics::Labels labels{{"model", name}, {"feature", column.name}};
    missing_counter_.push_back(metrics_->missing_values.With(labels));
    out_of_range_counter_.push_back(column.type == FeatureType::kNumerical
                                        ? metrics_->out_of_range.With(labels)
                                        : metrics::Counter());
    unseen_counter_.push_back(column.type == FeatureType::kCategorical
                                  ? metrics_->unseen_categories.With(labels)
                                  : metrics::Counter());
  }
  ground_truth_counter_ = metrics_->events.With({{"model", name}, {"kind", "ground_truth"}});
  joined_counter_ = metrics_->gt_joined.With(model_labels_);
  duplicate_predictions_ = metrics_->gt_duplicates.With({{"model", name}, {"kind", "prediction"}});
  duplicate_labels_ = metrics_->gt_duplicates.With({{"model", name}, {"kind", "label"}});
  evicted_predictions_ = metrics_->gt_evicted.With({{"model", name}, {"kind", "prediction"}});
  evicted_labels_ = metrics_->gt_evicted.With({{"model", name}, {"kind", "label"}});
  expired_predictions_ = metrics_->gt_expired.With({{"model", name}, {"kind", "prediction"}});
  expired_labels_ = metrics_->gt_expired.With({{"model", name}, {"kind", "label"}});
  pending_predictions_gauge_ = metrics_->gt_pending.With({{"model", name}, {"kind", "prediction"}});
  pending_labels_gauge_ = metrics_->gt_pending.With({{"model", name}, {"kind", "label"}});
  delay_histogram_ = metrics_->gt_delay.With(model_labels_);
  window_gauge_ = metrics_->window_samples.With(model_labels_);
  reference_gauge_ = metrics_->reference_samples.With(model_labels_);
}

void ModelMetrics::BeginBatch() {
  const size_t num_columns = schema_.columns().size();
  missing_.assign(num_columns, 0);
  range_.assign(num_columns, 0);
  unseen_.assign(num_columns, 0);
  bin_counts_.resize(bin_counters_.size());
  for (size_t c = 0; c < bin_counters_.size(); ++c) {
    bin_counts_[c].assign(bin_counters_[c].size(), 0);
  }
}

void ModelMetrics::EndBatch(size_t events, size_t window_events) {
  for (size_t c = 0; c < bin_counts_.size() && c < bin_counters_.size(); ++c) {
    for (size_t b = 0; b < bin_counts_[c].size(); ++b) {
      if (bin_counts_[c][b] > 0) bin_counters_[c][b].Inc(static_cast<double>(bin_counts_[c][b]));
    }
  }
  events_counter_.Inc(static_cast<double>(events));
  for (size_t c = 0; c < missing_.size(); ++c) {
    if (missing_[c]) missing_counter_[c].Inc(static_cast<double>(missing_[c]));
    if (range_[c]) out_of_range_counter_[c].Inc(static_cast<double>(range_[c]));
    if (unseen_[c]) unseen_counter_[c].Inc(static_cast<double>(unseen_[c]));
  }
  window_gauge_.Set(static_cast<double>(window_events));
}

const ModelMetrics::VersionMetrics& ModelMetrics::Version(const std::string& version) {
  auto it = versions_.find(version);
  if (it != versions_.end()) return it->second;
  const size_t named = versions_.size() - versions_.count(kOtherVersion);
  const bool capped = named >= schema_.config().max_versions;
  const std::string& key = capped ? std::string(kOtherVersion) : version;
  auto [slot, inserted] = versions_.try_emplace(key);
  if (inserted) {
    const metrics::Labels labels{{"model", schema_.name()},
                                 {"model_version", key.empty() ? "unknown" : key}};
    slot->second.label = labels.at("model_version");
    slot->second.predictions = metrics_->predictions.With(labels);
    slot->second.errors = metrics_->model_errors.With(labels);
    slot->second.latency = metrics_->model_latency.With(labels);
  }
  return slot->second;
}

std::vector<std::string> ModelMetrics::VersionNames() const {
  std::vector<std::string> names;
  names.reserve(versions_.size());
  for (const auto& [key, version] : versions_) names.push_back(key);
  return names;
}

void ModelMetrics::ReferenceChanged(const DriftColumns& columns, size_t rows,
                                    const std::string& source) {
  reference_gauge_.Set(static_cast<double>(rows));
  for (const metrics::Gauge& g : reference_shares_) metrics_->reference_share.Remove(g);
  reference_shares_.clear();
  bin_counters_.assign(columns.num_columns(), {});
  for (size_t c = 0; c < columns.num_columns(); ++c) {
    const std::vector<std::string> names = columns.BinNames(c);
    const std::vector<double> shares = columns.ReferenceShares(c);
    for (size_t b = 0; b < names.size(); ++b) {
      const metrics::Labels labels{
          {"model", schema_.name()}, {"feature", schema_.columns()[c].name}, {"bin", names[b]}};
      bin_counters_[c].push_back(metrics_->bin_observations.With(labels));
      reference_shares_.push_back(metrics_->reference_share.With(labels));
      reference_shares_.back().Set(shares[b]);
    }
  }
  metrics_->reference_updates.With({{"model", schema_.name()}, {"source", source}}).Inc();
}

void ModelMetrics::GroundTruthReceived(size_t events) const {
  ground_truth_counter_.Inc(static_cast<double>(events));
}

void ModelMetrics::Evicted(bool prediction, size_t entries) const {
  (prediction ? evicted_predictions_ : evicted_labels_).Inc(static_cast<double>(entries));
}

void ModelMetrics::Duplicate(bool prediction) const {
  (prediction ? duplicate_predictions_ : duplicate_labels_).Inc();
}

void ModelMetrics::Joined(double delay_seconds) const {
  joined_counter_.Inc();
  delay_histogram_.Observe(delay_seconds);
}

void ModelMetrics::Expired(size_t predictions, size_t labels) const {
  if (predictions > 0) expired_predictions_.Inc(static_cast<double>(predictions));
  if (labels > 0) expired_labels_.Inc(static_cast<double>(labels));
}

void ModelMetrics::SetLiveSizes(size_t window_events, size_t pending_predictions,
                                size_t pending_labels) const {
  window_gauge_.Set(static_cast<double>(window_events));
  pending_predictions_gauge_.Set(static_cast<double>(pending_predictions));
  pending_labels_gauge_.Set(static_cast<double>(pending_labels));
}

void ModelMetrics::ObserveEvaluation(double seconds) const {
  metrics_->evaluation_duration.With(model_labels_).Observe(seconds);
}

void ModelMetrics::Publish(const ModelStatus& status, size_t pending_predictions,
                           size_t pending_labels) {
  const std::string& model = schema_.name();
  std::map<std::pair<std::string, std::string>, PublishedDrift> still;
  auto publish_tests = [&](const ColumnResult& r) {
    for (const DriftTestResult& t : r.tests) {
      const auto key = std::make_pair(r.name, t.test);
      auto it = published_.find(key);
      PublishedDrift p;
      if (it != published_.end()) {
        p = it->second;
        published_.erase(it);
      } else {
        const metrics::Labels labels{{"model", model}, {"feature", r.name}, {"test", t.test}};
        p.statistic = metrics_->drift_statistic.With(labels);
        if (t.p_value) p.p_value = metrics_->drift_p_value.With(labels);
        p.threshold = metrics_->drift_threshold.With(labels);
        p.detected = metrics_->drift_detected.With(labels);
        p.window = metrics_->drift_window_samples.With(labels);
        p.reference = metrics_->drift_reference_samples.With(labels);
      }
      p.statistic.Set(t.statistic);
      if (t.p_value) p.p_value.Set(*t.p_value);
      p.threshold.Set(t.threshold);
      p.detected.Set(t.detected ? 1 : 0);
      p.window.Set(static_cast<double>(r.window_samples));
      p.reference.Set(static_cast<double>(r.reference_samples));
      still.emplace(key, p);
    }
  };
  for (const ColumnResult& r : status.columns) {
    const metrics::Labels column_labels{{"model", model}, {"feature", r.name}};
    // Window data-quality ratios and summaries (gauges kept across evaluations).
    auto& gauges = published_columns_[r.name];
    if (gauges.empty()) {
      gauges.push_back(metrics_->missing_ratio.With(column_labels));
      if (r.type == FeatureType::kNumerical) {
        gauges.push_back(metrics_->out_of_range_ratio.With(column_labels));
      } else {
        gauges.push_back(metrics_->unseen_ratio.With(column_labels));
      }
    }
    gauges[0].Set(r.missing_ratio);
    gauges[1].Set(r.type == FeatureType::kNumerical ? r.out_of_range_ratio : r.unseen_ratio);
    if (r.summary) {
      const std::pair<const char*, double> stats[] = {{"mean", r.summary->mean},
                                                      {"stddev", r.summary->stddev},
                                                      {"min", r.summary->min},
                                                      {"median", r.summary->median},
                                                      {"max", r.summary->max}};
      for (const auto& [stat, value] : stats) {
        metrics_->window_summary.With({{"model", model}, {"feature", r.name}, {"stat", stat}})
            .Set(value);
      }
    }
    publish_tests(r);
  }
  for (const ColumnResult& r : status.target) publish_tests(r);
  PublishExtra(status);
  // Verdicts that were not renewed (insufficient data, tests changed) are withdrawn.
  for (auto& [key, p] : published_) {
    metrics_->drift_statistic.Remove(p.statistic);
    metrics_->drift_p_value.Remove(p.p_value);
    metrics_->drift_threshold.Remove(p.threshold);
    metrics_->drift_detected.Remove(p.detected);
    metrics_->drift_window_samples.Remove(p.window);
    metrics_->drift_reference_samples.Remove(p.reference);
  }
  published_ = std::move(still);
  metrics_->features_drifted.With(model_labels_).Set(static_cast<double>(status.features_drifted));
  metrics_->dataset_drift.With(model_labels_).Set(status.dataset_drift ? 1 : 0);
  metrics_->drift_share.With(model_labels_)
      .Set(status.features_evaluated > 0 ? static_cast<double>(status.features_drifted) /
                                               static_cast<double>(status.features_evaluated)
                                         : 0);
  metrics_->last_evaluation.With(model_labels_).Set(status.evaluated_at);
  SetLiveSizes(status.window_events, pending_predictions, pending_labels);
}

void ModelMetrics::SetGauge(
    const metrics::GaugeFamily& family, const char* family_name, const metrics::Labels& labels,
    double value,
    std::map<std::string, std::pair<const metrics::GaugeFamily*, metrics::Gauge>>* still) {
  std::string key = family_name;
  for (const auto& [k, v] : labels) key += '\0' + k + '=' + v;
  auto it = published_extra_.find(key);
  std::pair<const metrics::GaugeFamily*, metrics::Gauge> entry;
  if (it != published_extra_.end()) {
    entry = it->second;
    published_extra_.erase(it);
  } else {
    entry = {&family, family.With(labels)};
  }
  entry.second.Set(value);
  still->emplace(std::move(key), entry);
}

void ModelMetrics::PublishExtra(const ModelStatus& status) {
  const std::string& model = schema_.name();
  std::map<std::string, std::pair<const metrics::GaugeFamily*, metrics::Gauge>> still;
  if (status.estimation && status.estimation->status == "ok") {
    SetGauge(metrics_->estimated_samples, "samples", model_labels_,
             static_cast<double>(status.estimation->samples), &still);
    for (const EstimatedMetric& m : status.estimation->metrics) {
      const metrics::Labels labels{{"model", model}, {"metric", m.metric}};
      const metrics::Labels lower{{"model", model}, {"metric", m.metric}, {"bound", "lower"}};
      const metrics::Labels upper{{"model", model}, {"metric", m.metric}, {"bound", "upper"}};
      if (m.value) SetGauge(metrics_->estimated, "estimated", labels, *m.value, &still);
      if (m.lower) SetGauge(metrics_->estimated_band, "band", lower, *m.lower, &still);
      if (m.upper) SetGauge(metrics_->estimated_band, "band", upper, *m.upper, &still);
      if (m.threshold_lower) {
        SetGauge(metrics_->estimated_threshold, "threshold", lower, *m.threshold_lower, &still);
      }
      if (m.threshold_upper) {
        SetGauge(metrics_->estimated_threshold, "threshold", upper, *m.threshold_upper, &still);
      }
      if (m.value && m.threshold_lower) {
        SetGauge(metrics_->estimated_alert, "alert", labels, m.alert ? 1 : 0, &still);
      }
      if (m.error) SetGauge(metrics_->estimation_error, "error", labels, *m.error, &still);
    }
  }
  if (status.multivariate && status.multivariate->status == "ok") {
    const MultivariateResult& r = *status.multivariate;
    SetGauge(metrics_->reconstruction_error, "reconstruction", model_labels_, r.error, &still);
    SetGauge(metrics_->reconstruction_threshold, "reconstruction_threshold",
             {{"model", model}, {"bound", "lower"}}, r.lower_threshold, &still);
    SetGauge(metrics_->reconstruction_threshold, "reconstruction_threshold",
             {{"model", model}, {"bound", "upper"}}, r.upper_threshold, &still);
    SetGauge(metrics_->multivariate_detected, "multivariate_detected", model_labels_,
             r.detected ? 1 : 0, &still);
  }
  // Series not renewed (insufficient data, reference replaced) are withdrawn.
  for (auto& [key, entry] : published_extra_) entry.first->Remove(entry.second);
  published_extra_ = std::move(still);
}

}  // namespace modelmon::state
