#include "state/model_state.h"

#include <algorithm>
#include <cmath>
#include <string_view>

namespace modelmon::state {

using detectors::DriftTest;

namespace {

constexpr const char* kOtherVersion = "__other__";

}  // namespace

ModelState::ModelState(std::shared_ptr<const ingest::ModelSchema> schema, DaemonMetrics* metrics,
                       const Clock* clock)
    : schema_(std::move(schema)),
      metrics_(metrics),
      clock_(clock),
      model_labels_{{"model", schema_->name()}},
      columns_(*schema_),
      join_(JoinOptionsFor(schema_->config().performance)),
      performance_(*schema_, metrics) {
  events_counter_ = metrics_->events.With({{"model", schema_->name()}, {"kind", "prediction"}});
  for (const auto& column : schema_->columns()) {
    const metrics::Labels labels{{"model", schema_->name()}, {"feature", column.name}};
    missing_counter_.push_back(metrics_->missing_values.With(labels));
    out_of_range_counter_.push_back(column.type == FeatureType::kNumerical
                                        ? metrics_->out_of_range.With(labels)
                                        : metrics::Counter());
    unseen_counter_.push_back(column.type == FeatureType::kCategorical
                                  ? metrics_->unseen_categories.With(labels)
                                  : metrics::Counter());
  }
  const std::string& name = schema_->name();
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
  const ReferenceConfig& reference = schema_->config().reference;
  if (reference.capture > 0) capture_.emplace(*schema_);
  last_.name = schema_->name();
  last_.task = TaskName(schema_->task());
}

ModelState::~ModelState() = default;

ModelState::JoinStore::Options ModelState::JoinOptionsFor(const PerformanceConfig& p) {
  JoinStore::Options o;
  o.max_predictions = p.max_pending;
  o.prediction_ttl = p.prediction_ttl;
  o.max_labels = p.max_pending_labels;
  o.label_ttl = p.label_ttl;
  o.max_joined_ids = p.max_pending;
  return o;
}

void ModelState::AddPredictions(std::vector<ingest::PredictionEvent>& events) {
  if (events.empty()) return;
  const auto now = clock_->Now();
  std::lock_guard<std::mutex> lock(mu_);
  // Per-request tallies in buffers reused across requests (no allocation per request).
  IngestScratch& scratch = scratch_;
  std::vector<uint8_t>& flags = scratch.flags;
  std::vector<uint32_t>& bins = scratch.bins;
  const size_t num_columns = schema_->columns().size();
  std::vector<int64_t>& missing = scratch.missing;
  std::vector<int64_t>& range = scratch.range;
  std::vector<int64_t>& unseen = scratch.unseen;
  missing.assign(num_columns, 0);
  range.assign(num_columns, 0);
  unseen.assign(num_columns, 0);
  // Bin counts of this batch, added to the fleet counters once at the end.
  std::vector<std::vector<int64_t>>& bin_counts = scratch.bin_counts;
  bin_counts.resize(bin_counters_.size());
  for (size_t c = 0; c < bin_counters_.size(); ++c)
    bin_counts[c].assign(bin_counters_[c].size(), 0);
  const VersionMetrics* version_run = nullptr;
  std::string_view version_name;
  size_t run_length = 0;
  for (ingest::PredictionEvent& ev : events) {
    columns_.Add(ev, now, &flags, &bins);
    for (size_t c = 0; c < bins.size() && c < bin_counts.size(); ++c) {
      if (bins[c] < bin_counts[c].size()) ++bin_counts[c][bins[c]];
    }
    for (size_t c = 0; c < flags.size(); ++c) {
      missing[c] += (flags[c] & kMissing) ? 1 : 0;
      range[c] += (flags[c] & kOutOfRange) ? 1 : 0;
      unseen[c] += (flags[c] & kUnseenCategory) ? 1 : 0;
    }
    // Events of one request nearly always share a version: count them per run of equal versions.
    if (version_run == nullptr || ev.model_version != version_name) {
      if (version_run != nullptr) version_run->predictions.Inc(static_cast<double>(run_length));
      version_run = &VersionMetricsLocked(ev.model_version);
      version_name = ev.model_version;
      run_length = 0;
    }
    ++run_length;
    const VersionMetrics& version = *version_run;
    if (!std::isnan(ev.latency_ms)) version.latency.Observe(ev.latency_ms / 1000.0);
    if (ev.error == 1) version.errors.Inc();
    if (!ev.id.empty()) {
      PendingPrediction p;
      p.version = version.label;
      p.predicted_class = ev.predicted_class;
      p.predicted_value = ev.predicted_value;
      p.score = ev.score;
      p.class_scores = ev.class_scores;
      CountJoinResultLocked(join_.AddPrediction(ev.id, std::move(p), now), true, now);
    }
    if (capture_) {
      capture_->AddRow(ev);
      if (capture_->rows() >= schema_->config().reference.capture) {
        ReferenceData data = std::move(*capture_);
        capture_.reset();
        SetReferenceLocked(std::move(data), "capture");
      }
    }
  }
  if (version_run != nullptr) version_run->predictions.Inc(static_cast<double>(run_length));
  if (const auto& d = schema_->config().window.duration) ExpireLocked(now - *d);
  for (size_t c = 0; c < bin_counts.size() && c < bin_counters_.size(); ++c) {
    for (size_t b = 0; b < bin_counts[c].size(); ++b) {
      if (bin_counts[c][b] > 0) bin_counters_[c][b].Inc(static_cast<double>(bin_counts[c][b]));
    }
  }
  events_counter_.Inc(static_cast<double>(events.size()));
  for (size_t c = 0; c < missing.size(); ++c) {
    if (missing[c]) missing_counter_[c].Inc(static_cast<double>(missing[c]));
    if (range[c]) out_of_range_counter_[c].Inc(static_cast<double>(range[c]));
    if (unseen[c]) unseen_counter_[c].Inc(static_cast<double>(unseen[c]));
  }
  window_gauge_.Set(static_cast<double>(columns_.size()));
}

const ModelState::VersionMetrics& ModelState::VersionMetricsLocked(const std::string& version) {
  auto it = versions_.find(version);
  if (it != versions_.end()) return it->second;
  const size_t named = versions_.size() - versions_.count(kOtherVersion);
  // The first max_versions distinct names get their own series; later ones share "__other__" and
  // are not remembered, so memory and cardinality stay bounded.
  const bool capped = named >= schema_->config().max_versions;
  const std::string& key = capped ? std::string(kOtherVersion) : version;
  auto [slot, inserted] = versions_.try_emplace(key);
  if (inserted) {
    const metrics::Labels labels{{"model", schema_->name()},
                                 {"model_version", key.empty() ? "unknown" : key}};
    slot->second.label = labels.at("model_version");
    slot->second.predictions = metrics_->predictions.With(labels);
    slot->second.errors = metrics_->model_errors.With(labels);
    slot->second.latency = metrics_->model_latency.With(labels);
  }
  return slot->second;
}

void ModelState::ExpireLocked(std::chrono::steady_clock::time_point cutoff) {
  columns_.ExpireBefore(cutoff);
}

void ModelState::AddGroundTruth(const std::vector<ingest::GroundTruthEvent>& events) {
  if (events.empty()) return;
  const auto now = clock_->Now();
  std::lock_guard<std::mutex> lock(mu_);
  for (const ingest::GroundTruthEvent& ev : events) {
    PendingLabel l;
    l.label_class = ev.label_class;
    l.value = ev.label_value;
    CountJoinResultLocked(join_.AddLabel(ev.id, l, now), false, now);
  }
  ground_truth_counter_.Inc(static_cast<double>(events.size()));
}

void ModelState::CountJoinResultLocked(const JoinStore::Result& result, bool prediction,
                                       std::chrono::steady_clock::time_point now) {
  if (result.evicted > 0) {
    (prediction ? evicted_predictions_ : evicted_labels_).Inc(static_cast<double>(result.evicted));
  }
  if (result.outcome == JoinStore::Outcome::kDuplicate) {
    (prediction ? duplicate_predictions_ : duplicate_labels_).Inc();
    return;
  }
  if (result.outcome != JoinStore::Outcome::kJoined) return;
  const JoinStore::Joined& j = *result.joined;
  JoinedPair pair;
  pair.joined_at = now;
  if (schema_->is_classification()) {
    pair.classification.label = j.label.label_class;
    pair.classification.predicted = j.prediction.predicted_class;
    pair.classification.score = j.prediction.score;
    pair.classification.class_scores = j.prediction.class_scores;
  } else {
    pair.y_true = j.label.value;
    pair.y_pred = j.prediction.predicted_value;
  }
  performance_.Add(j.prediction.version, std::move(pair));
  joined_counter_.Inc();
  // Ground truth that arrived before its prediction counts as no delay.
  delay_histogram_.Observe(
      std::max(0.0, std::chrono::duration<double>(j.label_at - j.prediction_at).count()));
}

void ModelState::SetReference(ReferenceData data, const std::string& source) {
  std::lock_guard<std::mutex> lock(mu_);
  capture_.reset();
  SetReferenceLocked(std::move(data), source);
}

void ModelState::SetReferenceLocked(ReferenceData data, const std::string& source) {
  reference_rows_ = data.rows();
  reference_source_ = source;
  reference_categories_.assign(schema_->columns().size(), {});
  for (size_t c = 0; c < schema_->columns().size(); ++c) {
    if (schema_->columns()[c].type == FeatureType::kCategorical) {
      reference_categories_[c] = data.CategoryCounts(c);
    }
  }
  columns_.SetReference(data);
  reference_gauge_.Set(static_cast<double>(reference_rows_));
  // Fleet view: bin counters and reference shares follow the new reference's bins.
  for (const metrics::Gauge& g : reference_shares_) metrics_->reference_share.Remove(g);
  reference_shares_.clear();
  bin_counters_.assign(columns_.num_columns(), {});
  for (size_t c = 0; c < columns_.num_columns(); ++c) {
    const std::vector<std::string> names = columns_.BinNames(c);
    const std::vector<double> shares = columns_.ReferenceShares(c);
    for (size_t b = 0; b < names.size(); ++b) {
      const metrics::Labels labels{
          {"model", schema_->name()}, {"feature", schema_->columns()[c].name}, {"bin", names[b]}};
      bin_counters_[c].push_back(metrics_->bin_observations.With(labels));
      reference_shares_.push_back(metrics_->reference_share.With(labels));
      reference_shares_.back().Set(shares[b]);
    }
  }
  metrics_->reference_updates.With({{"model", schema_->name()}, {"source", source}}).Inc();
}

bool ModelState::PromoteWindow(std::string* error) {
  std::lock_guard<std::mutex> lock(mu_);
  if (columns_.size() == 0) {
    *error = "the window is empty: nothing to promote";
    return false;
  }
  ReferenceData data = columns_.WindowAsReference();
  capture_.reset();
  SetReferenceLocked(std::move(data), "promote");
  return true;
}

double ModelState::ThresholdFor(const FeatureConfig* feature, const std::string& test,
                                size_t evaluated_columns) const {
  const DriftConfig& drift = schema_->config().drift;
  double threshold = detectors::DefaultDriftThreshold(test);
  if (auto it = drift.thresholds.find(test); it != drift.thresholds.end()) threshold = it->second;
  if (feature != nullptr) {
    if (auto it = feature->thresholds.find(test); it != feature->thresholds.end()) {
      threshold = it->second;
    }
  }
  const bool p_value_test = detectors::ReportsPValue(test);
  if (p_value_test && drift.bonferroni && evaluated_columns > 1) {
    threshold /= static_cast<double>(evaluated_columns);
  }
  return threshold;
}

void ModelState::Evaluate() {
  std::lock_guard<std::mutex> evaluating(evaluate_mu_);
  const auto started = clock_->Now();
  const ModelConfig& config = schema_->config();
  ModelStatus status;
  // A KS p-value can cost milliseconds (exact paths are O(n1 n2) in the worst case): statistics are
  // read under the lock, p-values computed after it, so ingestion never waits for them.
  struct PendingKsTest {
    size_t column;
    size_t test;
    detectors::PendingKs pending;
  };
  std::vector<PendingKsTest> pending_ks;
  size_t evaluable = 0;  // Columns with a verdict this round, for Bonferroni.
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (const auto& d = config.window.duration) ExpireLocked(started - *d);
    columns_.Sync();
    status.name = schema_->name();
    status.task = TaskName(schema_->task());
    FillLiveSizesLocked(&status);
    status.evaluated_at = clock_->UnixSeconds();
    for (size_t c = 0; c < columns_.num_columns(); ++c) {
      const ingest::Column& column = schema_->columns()[c];
      ColumnResult r;
      r.name = column.name;
      r.type = column.type;
      r.is_prediction = c >= config.features.size();
      r.window_samples = columns_.present(c);
      r.reference_samples = columns_.reference_size(c);
      if (columns_.size() > 0) {
        r.missing_ratio =
            static_cast<double>(columns_.missing(c)) / static_cast<double>(columns_.size());
        if (r.window_samples > 0) {
          const double present = static_cast<double>(r.window_samples);
          r.out_of_range_ratio = static_cast<double>(columns_.out_of_range(c)) / present;
          r.unseen_ratio = static_cast<double>(columns_.unseen(c)) / present;
        }
      }
      if (!columns_.has_reference() || r.reference_samples == 0) {
        r.status = "no_reference";
      } else if (r.window_samples < config.drift.min_samples) {
        r.status = "insufficient_data";
      } else {
        r.status = "ok";
        ++evaluable;
        r.summary = columns_.Summary(c);
        for (DriftTest t : columns_.tests(c)) {
          DriftTestResult tr;
          tr.test = std::string(detectors::DriftTestName(t));
          if (t == DriftTest::kKs) {
            pending_ks.push_back({c, r.tests.size(), columns_.PrepareKs(c)});
          } else {
            const detectors::DriftOutcome outcome = columns_.Evaluate(c, t);
            tr.statistic = outcome.statistic;
            tr.p_value = outcome.p_value;
          }
          r.tests.push_back(std::move(tr));
        }
      }
      status.columns.push_back(std::move(r));
    }
    // Performance: expire waiting predictions and labels, then the windows of joined pairs.
    const auto expired = join_.Expire(started);
    if (expired.predictions > 0) {
      expired_predictions_.Inc(static_cast<double>(expired.predictions));
    }
    if (expired.labels > 0) expired_labels_.Inc(static_cast<double>(expired.labels));
    if (const auto& d = config.performance.window_duration) {
      performance_.ExpireBefore(started - *d);
    }
    performance_.Publish();
    status.performance = performance_.results();
    status.experiment = performance_.experiment();
    status.baseline = performance_.baseline();
  }

  for (const PendingKsTest& p : pending_ks) {
    const detectors::DriftOutcome outcome = detectors::FinishKs(p.pending);
    DriftTestResult& tr = status.columns[p.column].tests[p.test];
    tr.statistic = outcome.statistic;
    tr.p_value = outcome.p_value;
  }
  for (size_t c = 0; c < status.columns.size(); ++c) {
    ColumnResult& r = status.columns[c];
    if (r.status != "ok") continue;
    const FeatureConfig* feature = r.is_prediction ? nullptr : &config.features[c];
    for (size_t i = 0; i < r.tests.size(); ++i) {
      DriftTestResult& tr = r.tests[i];
      tr.threshold = ThresholdFor(feature, tr.test, evaluable);
      tr.detected = tr.p_value ? *tr.p_value < tr.threshold : tr.statistic >= tr.threshold;
      // The first configured test decides the feature's verdict; the others are published
      // alongside (several tests at one level would inflate false alarms).
      if (i == 0) r.drifted = tr.detected;
    }
    if (!r.is_prediction) {
      ++status.features_evaluated;
      if (r.drifted) ++status.features_drifted;
    }
  }
  status.dataset_drift =
      status.features_evaluated > 0 &&
      static_cast<double>(status.features_drifted) >=
          config.drift.dataset_drift_share * static_cast<double>(status.features_evaluated);

  std::lock_guard<std::mutex> lock(mu_);
  PublishLocked(status);
  last_ = std::move(status);
  metrics_->evaluation_duration.With(model_labels_)
      .Observe(std::chrono::duration<double>(clock_->Now() - started).count());
}

void ModelState::PublishLocked(const ModelStatus& status) {
  const std::string& model = schema_->name();
  std::map<std::pair<std::string, std::string>, PublishedDrift> still;
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
  }
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
  window_gauge_.Set(static_cast<double>(status.window_events));
  pending_predictions_gauge_.Set(static_cast<double>(join_.pending_predictions()));
  pending_labels_gauge_.Set(static_cast<double>(join_.pending_labels()));
}

ModelStatus ModelState::Status() const {
  std::lock_guard<std::mutex> lock(mu_);
  ModelStatus s = last_;
  // Sizes are live; results are those of the last evaluation.
  FillLiveSizesLocked(&s);
  return s;
}

void ModelState::FillLiveSizesLocked(ModelStatus* s) const {
  s->window_events = columns_.size();
  s->window_capacity = columns_.capacity();
  s->reference_state = columns_.has_reference() ? "ready" : (capture_ ? "capturing" : "missing");
  s->reference_rows = capture_ ? capture_->rows() : reference_rows_;
  s->capture_target = schema_->config().reference.capture;
  s->pending_predictions = join_.pending_predictions();
  s->pending_labels = join_.pending_labels();
}

namespace {

int64_t AgeNs(std::chrono::steady_clock::time_point now, std::chrono::steady_clock::time_point t) {
  return std::max<int64_t>(0,
                           std::chrono::duration_cast<std::chrono::nanoseconds>(now - t).count());
}

}  // namespace

ModelSnapshot ModelState::ExportSnapshot(std::chrono::steady_clock::time_point now) const {
  ModelSnapshot m;
  m.name = schema_->name();
  m.fingerprint = ModelFingerprint(*schema_);
  m.reference_key = ReferenceKey(schema_->config());
  const size_t num_columns = schema_->columns().size();
  std::lock_guard<std::mutex> lock(mu_);
  if (columns_.has_reference()) {
    m.reference_source = reference_source_;
    SampleSnapshot& r = m.reference.emplace();
    r.rows = reference_rows_;
    r.numbers.resize(num_columns);
    r.categories.resize(num_columns);
    for (size_t c = 0; c < num_columns; ++c) {
      if (const detectors::NumericalReference* ref = columns_.numerical_reference(c)) {
        const auto values = ref->distinct_values();
        const auto counts = ref->distinct_counts();
        for (size_t i = 0; i < values.size() && i < counts.size(); ++i) {
          r.numbers[c].emplace_back(values[i], counts[i]);
        }
      } else if (c < reference_categories_.size()) {
        r.categories[c] = reference_categories_[c];
      }
    }
  }
  if (capture_) {
    SampleSnapshot& r = m.capture.emplace();
    r.rows = capture_->rows();
    r.numbers.resize(num_columns);
    r.categories.resize(num_columns);
    for (size_t c = 0; c < num_columns; ++c) {
      if (schema_->columns()[c].type == FeatureType::kNumerical) {
        for (double v : capture_->numerical(c)) r.numbers[c].emplace_back(v, 1);
      } else {
        r.categories[c] = capture_->CategoryCounts(c);
      }
    }
  }
  DriftColumns::WindowExport window = columns_.ExportWindow();
  m.window_ages_ns.reserve(window.arrivals.size());
  for (const auto& at : window.arrivals) m.window_ages_ns.push_back(AgeNs(now, at));
  for (auto& column : window.columns) {
    WindowColumnSnapshot& out = m.window_columns.emplace_back();
    out.numbers = std::move(column.numbers);
    out.ids = std::move(column.ids);
    out.names = std::move(column.names);
  }
  for (const auto& [key, version] : versions_) m.versions.push_back(key);
  join_.ForEachPendingPrediction(
      [&](const std::string& id, const PendingPrediction& p, JoinStore::TimePoint at) {
        m.pending_predictions.push_back({id, AgeNs(now, at), p.version, p.predicted_class,
                                         p.predicted_value, p.score, p.class_scores});
      });
  join_.ForEachPendingLabel(
      [&](const std::string& id, const PendingLabel& l, JoinStore::TimePoint at) {
        m.pending_labels.push_back({id, AgeNs(now, at), l.label_class, l.value});
      });
  join_.ForEachJoinedId([&](const std::string& id) { m.joined_ids.push_back(id); });
  for (auto& [version, pairs] : performance_.ExportWindows()) {
    auto& out = m.performance.emplace_back(version, std::vector<JoinedPairSnapshot>());
    out.second.reserve(pairs.size());
    for (JoinedPair& p : pairs) {
      out.second.push_back({AgeNs(now, p.joined_at), p.classification.label,
                            p.classification.predicted, p.classification.score,
                            std::move(p.classification.class_scores), p.y_true, p.y_pred});
    }
  }
  m.baseline = performance_.LearnedBaseline();
  return m;
}

size_t ModelState::ImportSnapshot(const ModelSnapshot& m, std::chrono::nanoseconds downtime) {
  const auto now = clock_->Now();
  const auto at = [&](int64_t age_ns) { return now - downtime - std::chrono::nanoseconds(age_ns); };
  const auto& schema_columns = schema_->columns();
  const size_t num_columns = schema_columns.size();
  const bool same_reference = m.reference_key == ReferenceKey(schema_->config());
  const auto sample_fits = [&](const SampleSnapshot& s) {
    if (s.numbers.size() != num_columns || s.categories.size() != num_columns) return false;
    for (size_t c = 0; c < num_columns; ++c) {
      const bool numerical = schema_columns[c].type == FeatureType::kNumerical;
      if ((numerical && !s.categories[c].empty()) || (!numerical && !s.numbers[c].empty())) {
        return false;
      }
    }
    return true;
  };
  const auto to_reference = [&](const SampleSnapshot& s) {
    ReferenceData data(*schema_);
    for (size_t c = 0; c < num_columns; ++c) {
      for (const auto& [value, count] : s.numbers[c]) {
        for (int64_t i = 0; i < count; ++i) data.AddNumber(c, value);
      }
      for (const auto& [name, count] : s.categories[c]) data.AddCategory(c, name, count);
    }
    data.set_rows(static_cast<size_t>(s.rows));
    return data;
  };
  const size_t k = schema_->config().classes.size();
  const auto valid_class = [&](int32_t cls) {
    return !schema_->is_classification() || (cls >= 0 && static_cast<size_t>(cls) < k);
  };
  const auto valid_scores = [&](const std::vector<double>& scores) {
    return scores.empty() || scores.size() == k;
  };

  std::lock_guard<std::mutex> lock(mu_);
  // The reference: one from the configured file was loaded again at start; others are restored
  // while the configured reference is the same.
  if (same_reference && m.reference && m.reference_source != "file" && sample_fits(*m.reference)) {
    capture_.reset();
    SetReferenceLocked(to_reference(*m.reference), m.reference_source);
  } else if (same_reference && m.capture && capture_ && !columns_.has_reference() &&
             sample_fits(*m.capture)) {
    capture_ = to_reference(*m.capture);
  }
  // The window, oldest first.
  size_t restored = 0;
  bool window_fits = m.window_columns.size() == num_columns;
  for (size_t c = 0; window_fits && c < num_columns; ++c) {
    const WindowColumnSnapshot& column = m.window_columns[c];
    const bool numerical = schema_columns[c].type == FeatureType::kNumerical;
    const size_t n = numerical ? column.numbers.size() : column.ids.size();
    window_fits = n == m.window_ages_ns.size();
  }
  if (window_fits) {
    ingest::PredictionEvent ev;
    ev.columns.resize(num_columns);
    std::vector<uint8_t> flags;
    std::vector<uint32_t> bins;
    for (size_t i = 0; i < m.window_ages_ns.size(); ++i) {
      for (size_t c = 0; c < num_columns; ++c) {
        const WindowColumnSnapshot& column = m.window_columns[c];
        ingest::Value& v = ev.columns[c];
        v.kind = ingest::Value::Kind::kMissing;
        if (schema_columns[c].type == FeatureType::kNumerical) {
          if (std::isfinite(column.numbers[i])) {
            v.kind = ingest::Value::Kind::kNumber;
            v.number = column.numbers[i];
          }
        } else if (column.ids[i] < column.names.size()) {
          v.kind = ingest::Value::Kind::kCategory;
          v.category = column.names[column.ids[i]];
        }
      }
      columns_.Add(ev, at(m.window_ages_ns[i]), &flags, &bins);
      ++restored;
    }
  }
  for (const std::string& version : m.versions) VersionMetricsLocked(version);
  // Pending joins: remembered ids first, so that duplicates are still recognised.
  for (const std::string& id : m.joined_ids) join_.RestoreJoinedId(id);
  for (const PendingPredictionSnapshot& p : m.pending_predictions) {
    if (p.id.empty() || !valid_class(p.predicted_class) || !valid_scores(p.class_scores)) continue;
    PendingPrediction pending;
    pending.version = p.version;
    pending.predicted_class = p.predicted_class;
    pending.predicted_value = p.predicted_value;
    pending.score = p.score;
    pending.class_scores = p.class_scores;
    join_.AddPrediction(p.id, std::move(pending), at(p.age_ns));
  }
  for (const PendingLabelSnapshot& l : m.pending_labels) {
    if (l.id.empty() || !valid_class(l.label_class)) continue;
    join_.AddLabel(l.id, PendingLabel{l.label_class, l.value}, at(l.age_ns));
  }
  // Performance windows: at most the versions a running model can have, plus "__all__".
  size_t windows = 0;
  for (const auto& [version, pairs] : m.performance) {
    if (++windows > schema_->config().max_versions + 2) break;
    std::vector<JoinedPair> restored_pairs;
    restored_pairs.reserve(pairs.size());
    for (const JoinedPairSnapshot& p : pairs) {
      if (!valid_class(p.label) || !valid_class(p.predicted) || !valid_scores(p.class_scores)) {
        continue;
      }
      JoinedPair pair;
      pair.joined_at = at(p.age_ns);
      pair.classification.label = p.label;
      pair.classification.predicted = p.predicted;
      pair.classification.score = p.score;
      pair.classification.class_scores = p.class_scores;
      pair.y_true = p.y_true;
      pair.y_pred = p.y_pred;
      restored_pairs.push_back(std::move(pair));
    }
    performance_.ImportWindow(version, std::move(restored_pairs));
  }
  performance_.ImportBaseline(m.baseline);
  window_gauge_.Set(static_cast<double>(columns_.size()));
  pending_predictions_gauge_.Set(static_cast<double>(join_.pending_predictions()));
  pending_labels_gauge_.Set(static_cast<double>(join_.pending_labels()));
  return restored;
}

}  // namespace modelmon::state
