#ifndef MODELMON_PERFORMANCE_CONFIDENCE_ESTIMATION_H_
#define MODELMON_PERFORMANCE_CONFIDENCE_ESTIMATION_H_

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "common/splitmix64.h"
#include "performance/isotonic.h"

namespace modelmon::performance {

// Confidence-based performance estimation (CBPE) for a binary classifier: estimates the
// confusion-matrix metrics and ROC AUC of a window of unlabelled (score, predicted class)
// pairs from the calibrated scores, with sampling-error bands derived from a labelled
// reference. Assumes calibrated scores, no concept shift and no shift into regions the
// reference does not cover. All types here are immutable values; safe for concurrent const use.

// One stratified shuffle split: for each class c in {0, 1}, the indices with that label in
// increasing order are shuffled by Fisher-Yates (for i = m - 1 down to 1: swap i with
// Below(i + 1)); the first ceil(m / 10) go to `test`, the rest to `train`. `test` and `train`
// list class 0 first, then class 1. Labels other than 0 and 1 are ignored.
struct Split {
  std::vector<size_t> train;
  std::vector<size_t> test;
};
Split StratifiedShuffleSplit(const std::vector<int32_t>& labels, SplitMix64& rng);

// Expected calibration error with 10 equal-width bins: p is clamped to [0, 1] and falls in bin
// min(9, floor(10 p)); ECE = sum over non-empty bins of (n_b / n) |mean p - mean y| in the bin.
// Returns 0 for no samples. O(n).
double ExpectedCalibrationError(const std::vector<double>& probabilities,
                                const std::vector<int32_t>& labels);

// ROC AUC of scores against 0/1 labels (Mann-Whitney, ties count one half); nullopt with
// one class only. O(n log n).
std::optional<double> RocAuc(const std::vector<double>& scores, const std::vector<int32_t>& labels);

// Whether and how to calibrate the scores of one class. Decide() skips calibration when the
// reference holds one class only or its ROC AUC exceeds 0.999. Otherwise it draws 10
// StratifiedShuffleSplits from SplitMix64(seed), fits isotonic regression on each train part,
// and compares the mean over splits of the test part's ECE raw and calibrated; calibration is
// used when the calibrated mean is strictly smaller, with isotonic regression fitted on the
// whole reference. O(n log n).
class BinaryCalibration {
 public:
  static constexpr uint64_t kDefaultSeed = 42;
  static constexpr int kSplits = 10;

  // Precondition: equal sizes, finite scores, labels 0 or 1. Returns nullopt otherwise or when
  // empty.
  static std::optional<BinaryCalibration> Decide(const std::vector<double>& scores,
                                                 const std::vector<int32_t>& labels,
                                                 uint64_t seed = kDefaultSeed);
  // The identity when not calibrated.
  static BinaryCalibration Identity() { return BinaryCalibration(); }

  double Calibrate(double score) const;
  bool calibrated() const { return isotonic_.has_value(); }
  // Mean test ECE over the splits, raw and calibrated; nullopt when the splits were skipped.
  std::optional<double> ece_raw() const { return ece_raw_; }
  std::optional<double> ece_calibrated() const { return ece_calibrated_; }

 private:
  BinaryCalibration() = default;
  std::optional<IsotonicRegression> isotonic_;
  std::optional<double> ece_raw_;
  std::optional<double> ece_calibrated_;
};

// The expected confusion matrix of a window and the metrics estimated from it. A metric whose
// denominator is zero is nullopt.
struct BinaryEstimate {
  int64_t n = 0;
  double tp = 0, fp = 0, tn = 0, fn = 0;
  std::optional<double> accuracy, precision, recall, f1, specificity, roc_auc;
};

// From calibrated probabilities p of class 1 and predictions: a prediction of 1 adds p to TP and
// 1 - p to FP, a prediction of 0 adds 1 - p to TN and p to FN. accuracy = (TP + TN) / n,
// precision = TP / (TP + FP), recall = TP / (TP + FN), specificity = TN / (TN + FP),
// F1 = TP / (TP + (FP + FN) / 2). roc_auc: every distinct p as threshold t (positive when
// p >= t) gives expected TPR = sum_{p >= t} p / sum p and FPR = sum_{p >= t} (1 - p) /
// sum (1 - p); with the point (0, 0) the curve is integrated by the trapezoidal rule; nullopt
// when sum p or sum (1 - p) is zero. Precondition: equal sizes, p in [0, 1]. O(n log n).
BinaryEstimate EstimateBinary(const std::vector<double>& probabilities,
                              const std::vector<int32_t>& predicted);

// Standard errors of the estimated metrics for a window of n rows, from a labelled reference
// (labels y, predictions ŷ, calibrated probabilities p). For each metric an observation-level
// value v_i over the reference rows relevant to it, with fraction f = relevant / reference size:
//   accuracy     all rows, v = [y == ŷ];            precision  rows ŷ = 1, v = y;
//   recall       rows y = 1, v = ŷ;                 specificity rows y = 0, v = [ŷ == 0];
//   f1           rows TP, FP, FN: v = c [TP] with c = (TP + FP + FN) / (TP + (FP + FN) / 2);
//   roc_auc      rows of the minority class (class 1 on a tie), v = the fraction of the other
//                class ranked below the row by p, or by 1 - p when the minority is class 0
//                (ties count one half).
// SE(n) = std(v) / sqrt(n f) with the population std (ddof = 0), as NannyML's sampling error.
// A metric with no relevant rows has no SE. The band is estimate ± 3 SE.
struct BinaryStandardErrorComponents {
  struct Component {
    double std = 0;
    double fraction = 0;
  };
  std::optional<Component> accuracy, precision, recall, f1, specificity, roc_auc;
};
struct BinaryStandardErrors {
  std::optional<double> accuracy, precision, recall, f1, specificity, roc_auc;
};
inline constexpr double kSamplingErrorRange = 3.0;

// Precondition: equal sizes, labels and predictions 0 or 1. O(n log n).
BinaryStandardErrorComponents StandardErrorComponents(const std::vector<int32_t>& labels,
                                                      const std::vector<int32_t>& predicted,
                                                      const std::vector<double>& probabilities);
// Precondition: n > 0.
BinaryStandardErrors StandardErrors(const BinaryStandardErrorComponents& c, int64_t n);

// A calibration and the reference's sampling-error components: estimates a window and its
// standard errors.
class BinaryConfidenceEstimator {
 public:
  // Decides the calibration on (scores, labels) and derives the components from the calibrated
  // reference. nullopt on invalid input (see BinaryCalibration::Decide; predictions 0 or 1).
  static std::optional<BinaryConfidenceEstimator> Fit(const std::vector<double>& scores,
                                                      const std::vector<int32_t>& labels,
                                                      const std::vector<int32_t>& predicted);
  // EstimateBinary of the calibrated scores clamped to [0, 1]. Precondition: equal sizes,
  // finite scores, predictions 0 or 1.
  BinaryEstimate Estimate(const std::vector<double>& scores,
                          const std::vector<int32_t>& predicted) const;
  BinaryStandardErrors Errors(int64_t n) const { return StandardErrors(components_, n); }
  const BinaryCalibration& calibration() const { return calibration_; }

 private:
  BinaryConfidenceEstimator(BinaryCalibration cal, BinaryStandardErrorComponents c)
      : calibration_(std::move(cal)), components_(c) {}
  BinaryCalibration calibration_;
  BinaryStandardErrorComponents components_;
};

}  // namespace modelmon::performance

#endif  // MODELMON_PERFORMANCE_CONFIDENCE_ESTIMATION_H_
