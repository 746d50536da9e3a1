#ifndef MODELMON_PERFORMANCE_CLASSIFICATION_H_
#define MODELMON_PERFORMANCE_CLASSIFICATION_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "performance/exact_sum.h"
#include "performance/rank_auc.h"

namespace modelmon::performance {

// One labelled prediction of a classifier.
struct ClassificationSample {
  int32_t label = 0;      // true class index in [0, num_classes)
  int32_t predicted = 0;  // predicted class index in [0, num_classes)
  // Binary windows: finite score / probability of the positive class; NaN when absent.
  double score = 0.0;
  // Multiclass windows: finite per-class probabilities (num_classes of them); empty when absent.
  std::vector<double> class_scores;
};

struct ClassMetrics {
  double precision = 0.0;
  double recall = 0.0;
  double f1 = 0.0;
  int64_t support = 0;  // samples whose label is this class
};

// Metrics of the current window, as scikit-learn 1.2 computes them on the window's samples with
// zero_division=0. All rates are 0 and the optionals empty when samples == 0.
struct ClassificationMetrics {
  int64_t samples = 0;
  double accuracy = 0.0;  // accuracy_score
  // Binary windows: precision_recall_fscore_support(average="binary", pos_label=positive_class).
  // Multiclass windows: 0.
  double precision = 0.0, recall = 0.0, f1 = 0.0;
  // precision_recall_fscore_support(average=...) over the labels present in y_true and y_pred
  // (computed for binary windows too).
  double macro_precision = 0.0, macro_recall = 0.0, macro_f1 = 0.0;
  double micro_precision = 0.0, micro_recall = 0.0, micro_f1 = 0.0;
  double weighted_precision = 0.0, weighted_recall = 0.0, weighted_f1 = 0.0;
  std::vector<ClassMetrics> per_class;  // index = class; absent classes are all zero
  std::vector<int64_t> confusion;       // row-major [true][predicted], num_classes^2
  // Binary: roc_auc_score(label == positive_class, score). Multiclass (K >= 3):
  // roc_auc_score(label, class_scores, multi_class="ovr", average="macro"); K == 2 without a
  // positive class: roc_auc_score(label, class_scores[:, 1]). Computed only when every sample
  // in the window carries scores; nullopt (with roc_auc_unavailable saying why) wherever sklearn
  // raises: one class only, a class of a multiclass task absent, rows not summing to 1.
  std::optional<double> roc_auc;
  std::string roc_auc_unavailable;
  // log_loss(y_true, probabilities, labels=range(num_classes)) with eps="auto": binary windows
  // use the positive-class score as the 1-D probability of label == positive_class. Computed
  // only when every sample in the window carries scores.
  std::optional<double> log_loss;
  std::string log_loss_unavailable;
  // Binary: share of samples predicted / labelled positive_class. Multiclass: 0.
  double predicted_positive_rate = 0.0, label_positive_rate = 0.0;
};

// Classification metrics over a sliding window that the caller maintains: the caller Adds each
// sample on arrival and Removes it (same values) on expiry; the window keeps only sufficient
// statistics (confusion counts, Mann-Whitney rank trees for ROC AUC, an exact log-loss sum), never
// the samples, so Compute never re-scans the window.
//
// Accuracy: counts and 2U are integers; the log-loss sum is an ExactSum, so any number of
// Add/Remove leaves no drift and log_loss is the exact window mean rounded once (sklearn's own
// pairwise summation differs by ~1e-15 relative).
//
// Not thread-safe; callers serialise access.
// Complexity: Add/Remove O(log W) expected for binary windows, O(K log W) for multiclass windows
// with scores (one rank tree per class); Compute O(K^2). Memory O(K^2 + K * distinct scores).
class ClassificationWindow {
 public:
  // positive_class: the positive class of a binary task (then num_classes must be 2); nullopt for
  // multiclass. Throws std::invalid_argument if num_classes < 2 or positive_class is out of range
  // or given with num_classes != 2.
  ClassificationWindow(int32_t num_classes, std::optional<int32_t> positive_class);

  // Throws std::invalid_argument (window unchanged) when label / predicted are out of range, a
  // binary score is infinite, or class_scores has the wrong size or non-finite entries.
  void Add(const ClassificationSample& s);
  // Precondition: s (same values) was added and not yet removed; otherwise the statistics are
  // corrupted. Throws std::invalid_argument on the same checks as Add.
  void Remove(const ClassificationSample& s);
  size_t size() const { return static_cast<size_t>(samples_); }
  int32_t num_classes() const { return num_classes_; }
  ClassificationMetrics Compute() const;

 private:
  void Validate(const ClassificationSample& s) const;
  void Apply(const ClassificationSample& s, int64_t sign);
  bool binary() const { return positive_class_.has_value(); }

  int32_t num_classes_;
  std::optional<int32_t> positive_class_;
  int64_t samples_ = 0;
  int64_t scored_ = 0;        // samples carrying scores
  int64_t unnormalised_ = 0;  // scored multiclass rows failing sklearn's sum-to-1 check
  std::vector<int64_t> confusion_;
  std::vector<RankAuc> auc_;  // binary: one; multiclass: one per class (one-vs-rest)
  ExactSum log_loss_sum_;
};

}  // namespace modelmon::performance

#endif  // MODELMON_PERFORMANCE_CLASSIFICATION_H_
