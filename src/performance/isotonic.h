#ifndef MODELMON_PERFORMANCE_ISOTONIC_H_
#define MODELMON_PERFORMANCE_ISOTONIC_H_

#include <optional>
#include <vector>

namespace modelmon::performance {

// A non-decreasing piecewise-linear function fitted by weighted least squares (pool adjacent
// violators), identical to scikit-learn's IsotonicRegression(increasing=True,
// out_of_bounds='clip'):
//   - samples with weight <= 0 are dropped; the rest are sorted by (x, y);
//   - runs of x values within 1e-15 of the run's first x are merged into one point at that
//     first x, with the weighted mean of their y and the sum of their weights;
//   - PAV fits the merged points; interior points of constant runs are dropped;
//   - Predict interpolates linearly between fitted points (as numpy.interp) and clips x to
//     [min x, max x] first, so outside the range it returns the end values.
// Immutable after Fit; safe for concurrent const use. Memory O(distinct x).
class IsotonicRegression {
 public:
  // Fits y on x with weights w (empty w: all 1). Returns nullopt when the sizes differ, any
  // value is not finite, any weight is negative, or no sample has positive weight.
  // O(n log n).
  static std::optional<IsotonicRegression> Fit(const std::vector<double>& x,
                                               const std::vector<double>& y,
                                               const std::vector<double>& w = {});

  // The fitted value at x. Precondition: x is not NaN. O(log m), m = fitted points.
  double Predict(double x) const;

  // The fitted points, x strictly increasing, y non-decreasing.
  const std::vector<double>& thresholds_x() const { return x_; }
  const std::vector<double>& thresholds_y() const { return y_; }

 private:
  IsotonicRegression() = default;
  std::vector<double> x_;
  std::vector<double> y_;
};

// Pool adjacent violators in place: replaces y by the weighted least-squares non-decreasing
// fit with weights w (all positive, same size). O(n).
void PoolAdjacentViolators(std::vector<double>& y, std::vector<double>& w);

}  // namespace modelmon::performance

#endif  // MODELMON_PERFORMANCE_ISOTONIC_H_
