#ifndef MODELMON_DETECTORS_CALIBRATION_H_
#define MODELMON_DETECTORS_CALIBRATION_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/splitmix64.h"
#include "detectors/drift.h"

// Thresholds for distance drift tests calibrated on the reference itself: the null distribution of
// the distance between a window of n values drawn from the reference (with replacement) and the
// reference, by B seeded resamples. The distances are the daemon's own (NumericalWindowState and
// the functions of detectors/statistics.h), so a threshold applies as is to what the daemon
// publishes. Pure and deterministic: the same inputs and seed give the same result bit for bit.

namespace modelmon::detectors {

struct CalibrationParams {
  size_t window_size = 0;   // n, >= 1.
  size_t resamples = 1000;  // B, >= 1.
  uint64_t seed = 0;
};

// The B resampled distances, sorted ascending. Immutable; safe to share across threads.
class NullDistribution {
 public:
  explicit NullDistribution(std::vector<double> distances);

  std::span<const double> distances() const { return distances_; }
  // The (1 - alpha) empirical quantile: the k-th smallest distance (1-based) with
  // k = ceil((1 - alpha) B) clamped to [1, B]. O(1).
  double Threshold(double alpha) const;
  // Empirical p-value of an observed distance: (1 + #{b : d_b >= observed}) / (B + 1), in
  // (0, 1]. O(log B).
  double PValue(double observed) const;

 private:
  std::vector<double> distances_;
};

// Numerical reference. Window b (b = 0..B-1) is n values reference[rng.Below(R)] drawn in order
// from one SplitMix64(seed) stream, where reference is the input with non-finite values dropped
// (input order kept) and R its size; its distance is
// NumericalWindowState(NumericalReference::Build(reference, psi_bins)).Evaluate(test).statistic
// after Assign(window). Supports psi, wasserstein, jensen_shannon and ks (its statistic D).
// nullopt when R == 0, n == 0, B == 0 or the test is not numerical.
// O(R log R + B (n log n + R + psi_bins)) time, O(R + n + B) memory.
std::optional<NullDistribution> CalibrateNumerical(std::span<const double> reference, int psi_bins,
                                                   DriftTest test, const CalibrationParams& params);

// Categorical reference given as bucket counts (as CategoricalReference::bucket_counts(); values
// are truncated to integers, negatives count as 0), T their total. Each draw takes
// r = rng.Below(T) and the first bucket i whose cumulative count c_0 + ... + c_i exceeds r; the
// distance of window b's counts is Psi, JensenShannonDistance or the Chi2Homogeneity statistic of
// (reference counts, window counts), as CategoricalWindowState::Evaluate computes them. Supports
// psi, jensen_shannon and chi2. nullopt when T == 0, n == 0, B == 0 or the test is not
// categorical. O(K + B (n log K + K)) time, O(K + B) memory.
std::optional<NullDistribution> CalibrateCategorical(std::span<const double> reference_counts,
                                                     DriftTest test,
                                                     const CalibrationParams& params);

}  // namespace modelmon::detectors

#endif  // MODELMON_DETECTORS_CALIBRATION_H_
