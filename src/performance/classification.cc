#include "performance/classification.h"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace modelmon::performance {
namespace {

constexpr double kEps = std::numeric_limits<double>::epsilon();  // log_loss eps="auto"

double Clip(double p) { return std::fmin(std::fmax(p, kEps), 1.0 - kEps); }

// sklearn's per-sample log loss for a 1-D positive-class probability: the row [1 - p, p] after
// clipping is renormalised by its sum.
double BinaryLogLoss(bool positive, double score) {
  const double p = Clip(score);
  const double q = 1.0 - p;
  const double sum = q + p;
  return -std::log((positive ? p : q) / sum);
}

// Per-sample log loss for a probability row: clip, renormalise by the row sum, -log(p[label]).
double MulticlassLogLoss(int32_t label, const std::vector<double>& scores) {
  double sum = 0.0;
  for (double p : scores) sum += Clip(p);
  return -std::log(Clip(scores[static_cast<size_t>(label)]) / sum);
}

// numpy.allclose(1, row_sum): |1 - s| <= 1e-8 + 1e-5 * |s|.
bool SumsToOne(const std::vector<double>& scores) {
  double sum = 0.0;
  for (double p : scores) sum += p;
  return std::fabs(1.0 - sum) <= 1e-8 + 1e-5 * std::fabs(sum);
}

double Ratio(int64_t num, int64_t den) {
  return den == 0 ? 0.0 : static_cast<double>(num) / static_cast<double>(den);
}

// F-beta with beta = 1 as sklearn 1.2 evaluates it: 2PR / (P + R), 0 when P + R == 0.
double F1(double precision, double recall) {
  const double denom = precision + recall;
  return denom == 0.0 ? 0.0 : 2.0 * precision * recall / denom;
}

}  // namespace

ClassificationWindow::ClassificationWindow(int32_t num_classes,
                                           std::optional<int32_t> positive_class)
    : num_classes_(num_classes), positive_class_(positive_class) {
  if (num_classes < 2) throw std::invalid_argument("num_classes must be at least 2");
  if (positive_class && (num_classes != 2 || *positive_class < 0 || *positive_class > 1)) {
    throw std::invalid_argument("positive_class needs num_classes == 2 and a class in [0, 2)");
  }
  const size_t k = static_cast<size_t>(num_classes);
  confusion_.assign(k * k, 0);
  auc_.resize(binary() ? 1 : k);
}

void ClassificationWindow::Validate(const ClassificationSample& s) const {
  if (s.label < 0 || s.label >= num_classes_ || s.predicted < 0 || s.predicted >= num_classes_) {
    throw std::invalid_argument("class index out of range");
  }
  if (binary()) {
    if (std::isinf(s.score)) throw std::invalid_argument("score must be finite or NaN");
    return;
  }
  if (s.class_scores.empty()) return;
  if (s.class_scores.size() != static_cast<size_t>(num_classes_)) {
    throw std::invalid_argument("class_scores must have num_classes entries");
  }
  for (double p : s.class_scores) {
    if (!std::isfinite(p)) throw std::invalid_argument("class_scores must be finite");
  }
}

void ClassificationWindow::Add(const ClassificationSample& s) {
  Validate(s);
  Apply(s, +1);
}

void ClassificationWindow::Remove(const ClassificationSample& s) {
  Validate(s);
  Apply(s, -1);
}

void ClassificationWindow::Apply(const ClassificationSample& s, int64_t sign) {
  samples_ += sign;
  confusion_[static_cast<size_t>(s.label) * static_cast<size_t>(num_classes_) +
             static_cast<size_t>(s.predicted)] += sign;
  double loss = 0.0;
  if (binary()) {
    if (std::isnan(s.score)) return;
    const bool positive = s.label == *positive_class_;
    if (sign > 0) {
      auc_[0].Add(s.score, positive);
    } else {
      auc_[0].Remove(s.score, positive);
    }
    loss = BinaryLogLoss(positive, s.score);
  } else {
    if (s.class_scores.empty()) return;
    for (size_t k = 0; k < auc_.size(); ++k) {
      const bool positive = static_cast<size_t>(s.label) == k;
      if (sign > 0) {
        auc_[k].Add(s.class_scores[k], positive);
      } else {
        auc_[k].Remove(s.class_scores[k], positive);
      }
    }
    if (!SumsToOne(s.class_scores)) unnormalised_ += sign;
    loss = MulticlassLogLoss(s.label, s.class_scores);
  }
  scored_ += sign;
  if (sign > 0) {
    log_loss_sum_.Add(loss);
  } else {
    log_loss_sum_.Subtract(loss);
  }
}

ClassificationMetrics ClassificationWindow::Compute() const {
  ClassificationMetrics m;
  const size_t k = static_cast<size_t>(num_classes_);
  m.samples = samples_;
  m.confusion = confusion_;
  m.per_class.resize(k);
  if (samples_ == 0) {
    m.roc_auc_unavailable = "empty window";
    m.log_loss_unavailable = "empty window";
    return m;
  }

  std::vector<int64_t> true_sum(k, 0), pred_sum(k, 0);
  int64_t correct = 0;
  for (size_t t = 0; t < k; ++t) {
    for (size_t p = 0; p < k; ++p) {
      const int64_t c = confusion_[t * k + p];
      true_sum[t] += c;
      pred_sum[p] += c;
      if (t == p) correct += c;
    }
  }
  m.accuracy = Ratio(correct, samples_);

  size_t present = 0;
  int64_t tp_present = 0, pred_present = 0, true_present = 0;
  double macro_p = 0.0, macro_r = 0.0, macro_f = 0.0;
  double weighted_p = 0.0, weighted_r = 0.0, weighted_f = 0.0;
  for (size_t c = 0; c < k; ++c) {
    ClassMetrics& cm = m.per_class[c];
    const int64_t tp = confusion_[c * k + c];
    cm.precision = Ratio(tp, pred_sum[c]);
    cm.recall = Ratio(tp, true_sum[c]);
    cm.f1 = F1(cm.precision, cm.recall);
    cm.support = true_sum[c];
    if (true_sum[c] == 0 && pred_sum[c] == 0) continue;
    ++present;
    tp_present += tp;
    pred_present += pred_sum[c];
    true_present += true_sum[c];
    macro_p += cm.precision;
    macro_r += cm.recall;
    macro_f += cm.f1;
    const double w = static_cast<double>(true_sum[c]);
    weighted_p += w * cm.precision;
    weighted_r += w * cm.recall;
    weighted_f += w * cm.f1;
  }
  const double count = static_cast<double>(present);
  m.macro_precision = macro_p / count;
  m.macro_recall = macro_r / count;
  m.macro_f1 = macro_f / count;
  m.micro_precision = Ratio(tp_present, pred_present);
  m.micro_recall = Ratio(tp_present, true_present);
  m.micro_f1 = F1(m.micro_precision, m.micro_recall);
  const double total_weight = static_cast<double>(true_present);  // == samples_ > 0
  m.weighted_precision = weighted_p / total_weight;
  m.weighted_recall = weighted_r / total_weight;
  m.weighted_f1 = weighted_f / total_weight;

  if (binary()) {
    const size_t pos = static_cast<size_t>(*positive_class_);
    m.precision = m.per_class[pos].precision;
    m.recall = m.per_class[pos].recall;
    m.f1 = m.per_class[pos].f1;
    m.predicted_positive_rate = Ratio(pred_sum[pos], samples_);
    m.label_positive_rate = Ratio(true_sum[pos], samples_);
  }

  // Scores: both ROC AUC and log loss describe the whole window, so both need every sample scored.
  if (scored_ == 0) {
    m.roc_auc_unavailable = "no scores in window";
    m.log_loss_unavailable = m.roc_auc_unavailable;
    return m;
  }
  if (scored_ < samples_) {
    m.roc_auc_unavailable = "scores missing for some samples in window";
    m.log_loss_unavailable = m.roc_auc_unavailable;
    return m;
  }
  m.log_loss = log_loss_sum_.Value() / static_cast<double>(samples_);

  if (binary()) {
    m.roc_auc = auc_[0].Auc();
    if (!m.roc_auc) m.roc_auc_unavailable = "only one class in window";
  } else if (k == 2) {
    m.roc_auc = auc_[1].Auc();
    if (!m.roc_auc) m.roc_auc_unavailable = "only one class in window";
  } else if (unnormalised_ > 0) {
    m.roc_auc_unavailable = "class scores do not sum to 1";
  } else {
    double sum = 0.0;
    for (const RankAuc& a : auc_) {
      const std::optional<double> auc = a.Auc();
      if (!auc) {
        m.roc_auc_unavailable = "not every class present in window";
        return m;
      }
      sum += *auc;
    }
    m.roc_auc = sum / static_cast<double>(k);
  }
  return m;
}

}  // namespace modelmon::performance
