#ifndef MODELMON_DETECTORS_MULTIPLE_TESTING_H_
#define MODELMON_DETECTORS_MULTIPLE_TESTING_H_

#include <span>
#include <vector>

// Multiple-testing control over a family of p-values, as
// statsmodels.stats.multitest.multipletests(pvals, alpha, method). NaN p-values are outside the
// family: m counts the non-NaN p-values only, a NaN is never rejected and its adjusted p-value is
// NaN. Preconditions: non-NaN p-values lie in [0, 1]. Pure and thread-safe.

namespace modelmon::detectors {

struct MultipleTestResult {
  std::vector<bool> rejected;    // Per hypothesis, in input order.
  std::vector<double> adjusted;  // Adjusted p-values in [0, 1] (NaN for a NaN input).
};

// method='bonferroni': rejects p_i <= alpha / m; adjusted p_i = min(1, m p_i). O(m).
MultipleTestResult Bonferroni(std::span<const double> p_values, double alpha);

// method='fdr_bh', the Benjamini-Hochberg step-up procedure: with the m p-values sorted ascending
// as p_(1) <= ... <= p_(m) and f_i = i / m, rejects the hypotheses of p_(1..k) for the largest k
// with p_(k) <= f_k alpha (none when there is no such k). Adjusted p_(i) = min(1, min over j >= i
// of p_(j) / f_j). O(m log m).
MultipleTestResult BenjaminiHochberg(std::span<const double> p_values, double alpha);

}  // namespace modelmon::detectors

#endif  // MODELMON_DETECTORS_MULTIPLE_TESTING_H_
