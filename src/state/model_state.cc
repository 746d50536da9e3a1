#include "state/model_state.h"

#include <algorithm>
#include <cmath>
#include <string_view>

namespace modelmon::state {

using detectors::DriftTest;

ModelState::ModelState(std::shared_ptr<const ingest::ModelSchema> schema, DaemonMetrics* metrics,
                       const Clock* clock)
    : schema_(std::move(schema)),
      clock_(clock),
      metrics_(*schema_, metrics),
      columns_(*schema_),
      join_(JoinOptionsFor(schema_->config().performance)),
      performance_(*schema_, metrics) {
  const ReferenceConfig& reference = schema_->config().reference;
  if (reference.capture > 0) capture_.emplace(*schema_);
  if (schema_->config().performance.estimation.enabled) scores_.emplace(*schema_);
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
  // Per-request tallies in buffers reused across requests (no allocation per request), added to
  // the counters once at the end.
  metrics_.BeginBatch();
  const ModelMetrics::VersionMetrics* version_run = nullptr;
  std::string_view version_name;
  size_t run_length = 0;
  for (ingest::PredictionEvent& ev : events) {
    columns_.Add(ev, now, &flags_, &bins_);
    if (scores_) scores_->Add(ev, now);
    metrics_.Tally(flags_, bins_);
    // Events of one request nearly always share a version: count them per run of equal versions.
    if (version_run == nullptr || ev.model_version != version_name) {
      if (version_run != nullptr) version_run->predictions.Inc(static_cast<double>(run_length));
      version_run = &metrics_.Version(ev.model_version);
      version_name = ev.model_version;
      run_length = 0;
    }
    ++run_length;
    const ModelMetrics::VersionMetrics& version = *version_run;
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
  metrics_.EndBatch(events.size(), columns_.size());
}

void ModelState::ExpireLocked(std::chrono::steady_clock::time_point cutoff) {
  columns_.ExpireBefore(cutoff);
  if (scores_) scores_->ExpireBefore(cutoff);
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
  metrics_.GroundTruthReceived(events.size());
}

void ModelState::CountJoinResultLocked(const JoinStore::Result& result, bool prediction,
                                       std::chrono::steady_clock::time_point now) {
  if (result.evicted > 0) metrics_.Evicted(prediction, result.evicted);
  if (result.outcome == JoinStore::Outcome::kDuplicate) {
    metrics_.Duplicate(prediction);
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
  // Ground truth that arrived before its prediction counts as no delay.
  metrics_.Joined(
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
  metrics_.ReferenceChanged(columns_, reference_rows_, source);
  ++reference_generation_;
  fits_.reset();
  pending_fit_.reset();
  if (WantsReferenceFits()) pending_fit_ = std::make_shared<const ReferenceData>(std::move(data));
}

bool ModelState::WantsReferenceFits() const {
  const ModelConfig& c = schema_->config();
  return c.performance.estimation.enabled || c.drift.multivariate.enabled || c.drift.target.enabled;
}

void ModelState::FitPendingReference() {
  std::shared_ptr<const ReferenceData> data;
  uint64_t generation = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    data = std::move(pending_fit_);
    pending_fit_.reset();
    generation = reference_generation_;
  }
  if (!data) return;
  const ModelConfig& c = schema_->config();
  auto fits = std::make_shared<ReferenceFits>();
  if (c.performance.estimation.enabled) {
    fits->estimation = FittedEstimation::Fit(*schema_, data->outputs(), &fits->estimation_reason);
  }
  if (c.drift.multivariate.enabled) {
    fits->multivariate = FittedMultivariate::Fit(*schema_, *data, &fits->multivariate_reason);
  }
  if (c.drift.target.enabled) {
    fits->target = FittedTarget::Fit(*schema_, data->outputs(), &fits->target_reason);
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (generation == reference_generation_) fits_ = std::move(fits);
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
  FitPendingReference();
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
  // Inputs of estimation, multivariate and target drift, copied under the lock.
  std::shared_ptr<const ReferenceFits> fits;
  bool has_reference = false;
  ScoredRows window_scores;
  std::vector<JoinedPair> joined;
  std::optional<DriftColumns::WindowExport> window_rows;
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
    metrics_.Expired(expired.predictions, expired.labels);
    if (const auto& d = config.performance.window_duration) {
      performance_.ExpireBefore(started - *d);
    }
    performance_.Publish();
    status.performance = performance_.results();
    status.experiment = performance_.experiment();
    status.baseline = performance_.baseline();
    fits = fits_;
    has_reference = columns_.has_reference();
    if (fits && scores_) window_scores = scores_->Rows();
    if (fits && (fits->estimation || fits->target)) {
      for (auto& [version, pairs] : performance_.ExportWindows()) {
        if (version == kAllVersions) joined = std::move(pairs);
      }
    }
    if (fits && fits->multivariate && columns_.size() >= config.drift.min_samples) {
      window_rows = columns_.ExportWindow();
    }
  }
  EvaluateReferenceModels(fits.get(), has_reference, window_scores, joined, window_rows, &status);

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
  metrics_.Publish(status, join_.pending_predictions(), join_.pending_labels());
  last_ = std::move(status);
  metrics_.ObserveEvaluation(std::chrono::duration<double>(clock_->Now() - started).count());
}

void ModelState::EvaluateReferenceModels(const ReferenceFits* fits, bool has_reference,
                                         const ScoredRows& window_scores,
                                         const std::vector<JoinedPair>& joined,
                                         const std::optional<DriftColumns::WindowExport>& rows,
                                         ModelStatus* status) const {
  const ModelConfig& config = schema_->config();
  // Why a fit is missing: no reference, a reference not fitted yet, or the fit's reason.
  auto missing = [&](const std::string& reason, std::string* out_status, std::string* out_reason) {
    if (!has_reference) {
      *out_status = "no_reference";
    } else if (fits == nullptr) {
      *out_status = "pending";
      *out_reason = "the reference is fitted at the next evaluation";
    } else {
      *out_status = "unavailable";
      *out_reason = reason;
    }
  };
  if (config.performance.estimation.enabled) {
    EstimationResult& e = status->estimation.emplace();
    if (fits == nullptr || !fits->estimation) {
      missing(fits ? fits->estimation_reason : "", &e.status, &e.reason);
    } else if (window_scores.size() < config.performance.estimation.min_samples) {
      e.status = "insufficient_data";
      e.samples = window_scores.size();
    } else {
      ScoredRows labelled;
      if (!joined.empty()) {
        std::vector<performance::ClassificationSample> samples;
        samples.reserve(joined.size());
        for (const JoinedPair& p : joined) samples.push_back(p.classification);
        labelled = JoinedRows(*schema_, samples);
      }
      e = fits->estimation->Estimate(window_scores, labelled);
    }
  }
  if (config.drift.multivariate.enabled) {
    MultivariateResult& m = status->multivariate.emplace();
    if (fits == nullptr || !fits->multivariate) {
      missing(fits ? fits->multivariate_reason : "", &m.status, &m.reason);
    } else if (!rows) {
      m.status = "insufficient_data";
      m.samples = status->window_events;
    } else {
      m = fits->multivariate->Evaluate(*rows);
    }
  }
  if (config.drift.target.enabled && fits != nullptr && fits->target) {
    const bool enough = joined.size() >= config.drift.min_samples;
    for (const TargetComparison& t : fits->target->Evaluate(joined)) {
      ColumnResult r;
      r.name = t.column;
      r.type = t.type;
      r.window_samples = t.window_samples;
      r.reference_samples = t.reference_samples;
      r.status = enough ? "ok" : "insufficient_data";
      if (enough) {
        for (size_t i = 0; i < t.tests.size(); ++i) {
          DriftTestResult tr;
          tr.test = t.tests[i].test;
          tr.statistic = t.tests[i].statistic;
          tr.p_value = t.tests[i].p_value;
          // One comparison at a time: no Bonferroni division.
          tr.threshold = ThresholdFor(nullptr, tr.test, 1);
          tr.detected = tr.p_value ? *tr.p_value < tr.threshold : tr.statistic >= tr.threshold;
          if (i == 0) r.drifted = tr.detected;
          r.tests.push_back(std::move(tr));
        }
      }
      status->target.push_back(std::move(r));
    }
  }
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

}  // namespace modelmon::state
