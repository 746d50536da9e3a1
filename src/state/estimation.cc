#include "state/estimation.h"

#include <cmath>
#include <utility>

namespace modelmon::state {
namespace {

using performance::BinaryEstimate;
using performance::BinaryStandardErrors;
using performance::kSamplingErrorRange;

void Put(std::map<std::string, double>* out, const char* name, const std::optional<double>& v) {
  if (v && std::isfinite(*v)) (*out)[name] = *v;
}

void PutEstimate(std::map<std::string, double>* out, const BinaryEstimate& e) {
  Put(out, "accuracy", e.accuracy);
  Put(out, "precision", e.precision);
  Put(out, "recall", e.recall);
  Put(out, "f1", e.f1);
  Put(out, "specificity", e.specificity);
  Put(out, "roc_auc", e.roc_auc);
}

void PutErrors(std::map<std::string, double>* out, const BinaryStandardErrors& e) {
  Put(out, "accuracy", e.accuracy);
  Put(out, "precision", e.precision);
  Put(out, "recall", e.recall);
  Put(out, "f1", e.f1);
  Put(out, "specificity", e.specificity);
  Put(out, "roc_auc", e.roc_auc);
}

// Confusion-matrix metrics of 0/1 labels and predictions, and ROC AUC of scores.
std::map<std::string, double> BinaryRealized(const std::vector<int32_t>& labels,
                                             const std::vector<int32_t>& predicted,
                                             const std::vector<double>& scores) {
  double tp = 0, fp = 0, tn = 0, fn = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    const bool y = labels[i] == 1, p = predicted[i] == 1;
    tp += y && p;
    fp += !y && p;
    tn += !y && !p;
    fn += y && !p;
  }
  std::map<std::string, double> out;
  const double n = tp + fp + tn + fn;
  if (n > 0) out["accuracy"] = (tp + tn) / n;
  if (tp + fp > 0) out["precision"] = tp / (tp + fp);
  if (tp + fn > 0) out["recall"] = tp / (tp + fn);
  if (2 * tp + fp + fn > 0) out["f1"] = 2 * tp / (2 * tp + fp + fn);
  if (tn + fp > 0) out["specificity"] = tn / (tn + fp);
  if (scores.size() == labels.size()) Put(&out, "roc_auc", performance::RocAuc(scores, labels));
  return out;
}

}  // namespace

std::map<std::string, double> RealizedMetrics(const ScoredRows& rows, bool multiclass) {
  if (!multiclass) return BinaryRealized(rows.labels, rows.predicted, rows.scores);
  std::map<std::string, double> out;
  if (rows.size() == 0) return out;
  const size_t k = rows.class_scores.empty() ? 0 : rows.class_scores[0].size();
  double correct = 0;
  for (size_t i = 0; i < rows.size(); ++i) correct += rows.labels[i] == rows.predicted[i];
  out["accuracy"] = correct / static_cast<double>(rows.size());
  std::map<std::string, double> sums;
  std::map<std::string, size_t> defined;
  for (size_t c = 0; c < k; ++c) {
    std::vector<int32_t> y(rows.size()), p(rows.size());
    std::vector<double> s(rows.size());
    for (size_t i = 0; i < rows.size(); ++i) {
      y[i] = rows.labels[i] == static_cast<int32_t>(c);
      p[i] = rows.predicted[i] == static_cast<int32_t>(c);
      s[i] = rows.class_scores[i][c];
    }
    for (const auto& [name, v] : BinaryRealized(y, p, s)) {
      if (name == "accuracy") continue;
      sums[name] += v;
      ++defined[name];
    }
  }
  for (const auto& [name, sum] : sums) {
    if (defined[name] == k) out[name] = sum / static_cast<double>(k);
  }
  return out;
}

std::shared_ptr<const FittedEstimation> FittedEstimation::Fit(
    const ingest::ModelSchema& schema, const std::vector<ingest::ReferenceOutputs>& reference,
    std::string* reason) {
  std::shared_ptr<FittedEstimation> fit(new FittedEstimation());
  const EstimationConfig& config = schema.config().performance.estimation;
  if (config.metrics.empty()) {
    for (const char* m : kEstimatedMetrics) fit->metrics_.emplace_back(m);
  } else {
    fit->metrics_ = config.metrics;
  }
  fit->multiclass_ = schema.task() == Task::kMulticlassClassification;
  const size_t k = schema.config().classes.size();
  const int32_t positive = schema.positive_class();
  ScoredRows rows;
  for (const ingest::ReferenceOutputs& o : reference) {
    if (o.label_class < 0 || o.predicted_class < 0) continue;
    if (fit->multiclass_) {
      if (o.class_scores.size() != k) continue;
      rows.class_scores.push_back(o.class_scores);
      rows.labels.push_back(o.label_class);
      rows.predicted.push_back(o.predicted_class);
    } else {
      if (!std::isfinite(o.score)) continue;
      rows.scores.push_back(o.score);
      rows.labels.push_back(o.label_class == positive);
      rows.predicted.push_back(o.predicted_class == positive);
    }
  }
  if (rows.size() == 0) {
    *reason = fit->multiclass_ ? "the reference has no rows with a label, a prediction and scores"
                               : "the reference has no rows with a label, a prediction and a score";
    return nullptr;
  }
  if (fit->multiclass_) {
    fit->multiclass_estimator_ = performance::MulticlassConfidenceEstimator::Fit(
        rows.class_scores, rows.labels, rows.predicted);
  } else {
    fit->binary_ =
        performance::BinaryConfidenceEstimator::Fit(rows.scores, rows.labels, rows.predicted);
  }
  if (!fit->binary_ && !fit->multiclass_estimator_) {
    *reason = "the reference's scores cannot be calibrated (non-finite or out-of-range values)";
    return nullptr;
  }
  fit->reference_values_ = RealizedMetrics(rows, fit->multiclass_);
  fit->reference_rows_ = rows.size();
  return fit;
}

void FittedEstimation::EstimateRows(const ScoredRows& rows, std::map<std::string, double>* values,
                                    std::map<std::string, double>* errors) const {
  const auto n = static_cast<int64_t>(rows.size());
  if (n == 0) return;
  if (binary_) {
    PutEstimate(values, binary_->Estimate(rows.scores, rows.predicted));
    if (errors != nullptr) PutErrors(errors, binary_->Errors(n));
  } else {
    const performance::MulticlassEstimate e =
        multiclass_estimator_->Estimate(rows.class_scores, rows.predicted);
    Put(values, "accuracy", e.accuracy);
    Put(values, "precision", e.precision);
    Put(values, "recall", e.recall);
    Put(values, "f1", e.f1);
    Put(values, "specificity", e.specificity);
    Put(values, "roc_auc", e.roc_auc);
    if (errors != nullptr) PutErrors(errors, multiclass_estimator_->Errors(n));
  }
}

EstimationResult FittedEstimation::Estimate(const ScoredRows& window,
                                            const ScoredRows& joined) const {
  EstimationResult out;
  out.status = "ok";
  out.samples = window.size();
  std::map<std::string, double> values, errors, joined_values;
  EstimateRows(window, &values, &errors);
  EstimateRows(joined, &joined_values, nullptr);
  const std::map<std::string, double> realized = RealizedMetrics(joined, multiclass_);
  auto find = [](const std::map<std::string, double>& m,
                 const std::string& name) -> std::optional<double> {
    auto it = m.find(name);
    if (it == m.end()) return std::nullopt;
    return it->second;
  };
  for (const std::string& name : metrics_) {
    EstimatedMetric m;
    m.metric = name;
    m.value = find(values, name);
    m.reference = find(reference_values_, name);
    const std::optional<double> se = find(errors, name);
    if (m.value && se) {
      m.lower = *m.value - kSamplingErrorRange * *se;
      m.upper = *m.value + kSamplingErrorRange * *se;
    }
    if (m.reference && se) {
      m.threshold_lower = *m.reference - kSamplingErrorRange * *se;
      m.threshold_upper = *m.reference + kSamplingErrorRange * *se;
      m.alert = m.value && (*m.value < *m.threshold_lower || *m.value > *m.threshold_upper);
    }
    m.joined_samples = joined.size();
    m.realized = find(realized, name);
    m.estimated_on_joined = find(joined_values, name);
    if (m.realized && m.estimated_on_joined) m.error = *m.estimated_on_joined - *m.realized;
    out.metrics.push_back(std::move(m));
  }
  return out;
}

ScoreWindow::ScoreWindow(const ingest::ModelSchema& schema)
    : binary_(schema.task() == Task::kBinaryClassification),
      positive_(schema.positive_class()),
      capacity_(schema.config().window.size) {}

void ScoreWindow::Add(const ingest::PredictionEvent& event,
                      std::chrono::steady_clock::time_point arrival) {
  if (entries_.size() >= capacity_) entries_.pop_front();
  Entry& e = entries_.emplace_back();
  e.arrival = arrival;
  e.predicted = event.predicted_class;
  e.score = event.score;
  if (!binary_) e.class_scores = event.class_scores;
}

void ScoreWindow::ExpireBefore(std::chrono::steady_clock::time_point cutoff) {
  while (!entries_.empty() && entries_.front().arrival < cutoff) entries_.pop_front();
}

ScoredRows ScoreWindow::Rows() const {
  ScoredRows rows;
  for (const Entry& e : entries_) {
    if (e.predicted < 0) continue;
    if (binary_) {
      if (!std::isfinite(e.score)) continue;
      rows.scores.push_back(e.score);
      rows.predicted.push_back(e.predicted == positive_);
    } else {
      if (e.class_scores.empty()) continue;
      rows.class_scores.push_back(e.class_scores);
      rows.predicted.push_back(e.predicted);
    }
  }
  return rows;
}

ScoredRows JoinedRows(const ingest::ModelSchema& schema,
                      const std::vector<performance::ClassificationSample>& pairs) {
  ScoredRows rows;
  const bool binary = schema.task() == Task::kBinaryClassification;
  const size_t k = schema.config().classes.size();
  const int32_t positive = schema.positive_class();
  for (const performance::ClassificationSample& s : pairs) {
    if (binary) {
      if (!std::isfinite(s.score)) continue;
      rows.scores.push_back(s.score);
      rows.predicted.push_back(s.predicted == positive);
      rows.labels.push_back(s.label == positive);
    } else {
      if (s.class_scores.size() != k) continue;
      rows.class_scores.push_back(s.class_scores);
      rows.predicted.push_back(s.predicted);
      rows.labels.push_back(s.label);
    }
  }
  return rows;
}

}  // namespace modelmon::state
