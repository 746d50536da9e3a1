#ifndef MODELMON_DETECTORS_COMPENSATED_SUM_H_
#define MODELMON_DETECTORS_COMPENSATED_SUM_H_

#include <cmath>

namespace modelmon::detectors::internal {

// Neumaier-compensated running sum: the error of value() stays within a few ulps of the exact sum
// of the added terms, independent of their number. Value type; not thread-safe. O(1) per Add.
class CompensatedSum {
 public:
  void Add(double x) {
    const double t = sum_ + x;
    if (std::abs(sum_) >= std::abs(x)) {
      compensation_ += (sum_ - t) + x;
    } else {
      compensation_ += (x - t) + sum_;
    }
    sum_ = t;
  }
  double value() const { return sum_ + compensation_; }

 private:
  double sum_ = 0.0;
  double compensation_ = 0.0;
};

}  // namespace modelmon::detectors::internal

#endif  // MODELMON_DETECTORS_COMPENSATED_SUM_H_
