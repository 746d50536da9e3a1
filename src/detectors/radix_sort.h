#ifndef MODELMON_DETECTORS_RADIX_SORT_H_
#define MODELMON_DETECTORS_RADIX_SORT_H_

#include <span>

namespace modelmon::detectors::internal {

// Sorts finite doubles ascending (as std::sort with operator<; -0.0 sorts before +0.0, which
// compare equal). LSD radix sort on the order-preserving 64-bit image of each value, 11 bits per
// pass, skipping the passes in which every value has the same digit. O(n) time and O(n) scratch
// memory; small inputs go to std::sort. Precondition: no NaN. Pure; thread-safe.
void SortDoubles(std::span<double> values);

}  // namespace modelmon::detectors::internal

#endif  // MODELMON_DETECTORS_RADIX_SORT_H_
