#ifndef MODELMON_PERFORMANCE_MULTICLASS_ESTIMATION_H_
#define MODELMON_PERFORMANCE_MULTICLASS_ESTIMATION_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "performance/confidence_estimation.h"

namespace modelmon::performance {

// Confidence-based performance estimation for a classifier over K >= 2 classes, one-vs-rest.
// Class c's scores get their own BinaryCalibration, decided on (score_c, [label == c]) with the
// default seed; a row's calibrated probabilities are renormalised to sum to 1 (1/K each when
// they sum to 0). Per class, EstimateBinary on (p_c, [predicted == c]); the macro precision,
// recall, F1, specificity and ROC AUC are the unweighted means over classes, nullopt when any
// class's value is. Estimated accuracy = mean over rows of p of the predicted class.
// Standard errors: accuracy as the binary one over all rows ([y == ŷ]); a macro metric's SE is
// sqrt(sum_c SE_c^2) / K with SE_c the binary SE of class c's one-vs-rest metric (NannyML's
// combination, which treats the classes as independent), nullopt when any SE_c is.
// Immutable after Fit; safe for concurrent const use.
struct MulticlassEstimate {
  int64_t n = 0;
  std::optional<double> accuracy, precision, recall, f1, specificity, roc_auc;
  std::vector<BinaryEstimate> per_class;
};

class MulticlassConfidenceEstimator {
 public:
  // scores: one row of K scores per reference row; labels and predicted in [0, K). Returns
  // nullopt on ragged rows, K < 2, non-finite scores or out-of-range classes.
  static std::optional<MulticlassConfidenceEstimator> Fit(
      const std::vector<std::vector<double>>& scores, const std::vector<int32_t>& labels,
      const std::vector<int32_t>& predicted);

  // The renormalised calibrated probabilities of one row of K scores.
  std::vector<double> Calibrate(const std::vector<double>& row) const;
  // Precondition: rows of K finite scores, predictions in [0, K).
  MulticlassEstimate Estimate(const std::vector<std::vector<double>>& scores,
                              const std::vector<int32_t>& predicted) const;
  BinaryStandardErrors Errors(int64_t n) const;
  const std::vector<BinaryCalibration>& calibrations() const { return calibrations_; }

 private:
  MulticlassConfidenceEstimator() = default;
  std::vector<BinaryCalibration> calibrations_;
  std::optional<BinaryStandardErrorComponents::Component> accuracy_;
  std::vector<BinaryStandardErrorComponents> per_class_;
};

}  // namespace modelmon::performance

#endif  // MODELMON_PERFORMANCE_MULTICLASS_ESTIMATION_H_
