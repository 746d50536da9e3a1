#ifndef MODELMON_PERFORMANCE_REGRESSION_H_
#define MODELMON_PERFORMANCE_REGRESSION_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <unordered_map>

#include "performance/exact_sum.h"

namespace modelmon::performance {

// Metrics of the current window as scikit-learn 1.2 computes them on the window's pairs. All
// values are 0 and r2 is nullopt when samples == 0.
struct RegressionMetrics {
  int64_t samples = 0;
  double mae = 0.0;   // mean_absolute_error
  double mse = 0.0;   // mean_squared_error
  double rmse = 0.0;  // mean_squared_error(squared=False) = sqrt(mse)
  // r2_score(force_finite=True): 1.0 when the residual sum is 0; 0.0 when y_true is constant and
  // the residual sum is not 0; nullopt with fewer than 2 samples.
  std::optional<double> r2;
  // mean_absolute_percentage_error: mean of |y_pred - y_true| / max(|y_true|, DBL_EPSILON).
  double mape = 0.0;
  // Mean signed error, mean(y_pred - y_true): positive when the model over-predicts.
  double mean_error = 0.0;
};

// Regression metrics over a sliding window that the caller maintains (Add on arrival, Remove with
// the same values on expiry).
//
// Accuracy: every running sum (|e|, e^2, e, the MAPE terms, y_true, and y_true^2 split exactly
// into two doubles by fma) is an ExactSum, so no number of Add/Remove introduces drift and each
// mean is the exact mean of sklearn's per-sample terms, rounded once. The total sum of squares is
// then evaluated as S2 - S1^2 / n in double-double arithmetic from the exact sums; its relative
// error is below about 2^-100 * S2 / SS_tot (well under 1e-9 unless |mean| / std of y_true
// exceeds ~1e10, where sklearn's own two-pass formula is no better). A window whose y_true values
// are all identical is detected exactly (distinct-value counts) and has SS_tot = 0. sklearn can
// instead get a tiny non-zero SS_tot from rounding its mean (e.g. y_true = [0.1, 0.1, 0.1]) and
// report a huge negative R^2; this class reports the mathematically exact 0.0 there.
// Squares of |y_true| < 2^-511 lose their low part to underflow (absolute error < 1e-307).
//
// Not thread-safe; callers serialise access.
// Complexity: Add/Remove O(1) average (a hash-map update plus constant ExactSum work); Compute
// O(1). Memory O(distinct y_true values in the window) for the constancy check, plus ~3.3 KB.
class RegressionWindow {
 public:
  // Throws std::invalid_argument (window unchanged) when a value, the error, or a square is not
  // finite.
  void Add(double y_true, double y_pred);
  // Precondition: the same pair was added and not yet removed. Throws like Add.
  void Remove(double y_true, double y_pred);
  size_t size() const { return static_cast<size_t>(samples_); }
  RegressionMetrics Compute() const;

 private:
  struct Terms {
    double error, abs_error, squared_error, ape, y_square_hi, y_square_lo;
  };
  static Terms Evaluate(double y_true, double y_pred);

  int64_t samples_ = 0;
  ExactSum abs_error_, squared_error_, error_, ape_, y_, y_square_;
  std::unordered_map<double, int64_t> y_counts_;  // y_true value -> multiplicity (+0.0 == -0.0)
};

}  // namespace modelmon::performance

#endif  // MODELMON_PERFORMANCE_REGRESSION_H_
