#ifndef MODELMON_DETECTORS_STATISTICS_H_
#define MODELMON_DETECTORS_STATISTICS_H_

#include <cstdint>
#include <span>

// Batch two-sample drift statistics, matching scipy 1.10.1 (and Evidently's PSI rule). All
// functions are pure, reentrant and thread-safe. They never return NaN or infinity: degenerate
// inputs (empty samples, zero totals) give the neutral result documented on each function.

namespace modelmon::detectors {

struct KsResult {
  double statistic = 0.0;  // D = sup |F_a - F_b|, in [0, 1].
  double p_value = 1.0;    // In [0, 1].
};

// Two-sided two-sample Kolmogorov-Smirnov test as scipy.stats.ks_2samp(a, b, method='auto').
// Inputs need not be sorted. Preconditions: no NaN; both samples non-empty (otherwise D = 0, p =
// 1). Ties are allowed; like scipy the exact p-value still assumes continuous data. Complexity:
// O((n1 + n2) log(n1 + n2)) plus KsTwoSamplePValue.
KsResult KsTwoSample(std::span<const double> a, std::span<const double> b);

// The test from integer ECDF counts: `scaled_d` is the largest |a n2 - b n1| over the pooled points
// (a, b: values of each sample <= the point). Returns D in scipy's float form (h / lcm(n1, n2)) and
// its p-value. Preconditions: n1, n2 >= 1 (otherwise {0, 1}), 0 <= scaled_d <= n1 n2.
// Complexity: as KsTwoSamplePValue.
KsResult KsFromScaledStatistic(int64_t n1, int64_t n2, int64_t scaled_d);

// p-value of the two-sided two-sample test for sizes n1, n2 and statistic d, with scipy's
// method='auto' semantics: exact when max(n1, n2) <= 10000 (h = round(d lcm(n1, n2)); falls back to
// the asymptotic distribution when the exact value is not a probability), otherwise
// KolmogorovSf(d, round_half_even(n1 n2 / (n1 + n2))). Preconditions: n1, n2 >= 1 (otherwise 1).
// Complexity: exact O(n) for n1 == n2, else O(max(n1,n2) * (2 d min(n1,n2) + 1)); asymptotic: see
// KolmogorovSf.
double KsTwoSamplePValue(int64_t n1, int64_t n2, double d);

struct Chi2Result {
  double statistic = 0.0;
  double p_value = 1.0;
  int64_t dof = 0;
};

// Chi-squared homogeneity test of the 2 x K table (reference_counts; window_counts) as
// scipy.stats.chi2_contingency(table) with defaults: expected counts from the margins, Yates'
// correction when dof == 1. Columns that are zero in both rows are dropped first. Returns statistic
// 0, p-value 1, dof 0 when fewer than 2 columns remain or either row sums to 0 (scipy raises for
// the latter). Preconditions: equal lengths (extra entries of the longer span are ignored), counts
// >= 0 and finite. Complexity: O(K).
Chi2Result Chi2Homogeneity(std::span<const double> reference_counts,
                           std::span<const double> window_counts);

// Chi-squared survival function, the regularized upper incomplete gamma Q(dof/2, x/2), as
// scipy.stats.chi2.sf(x, dof). Returns 1 for x <= 0. Precondition: dof > 0 (otherwise 1).
double Chi2Sf(double x, double dof);

// Population Stability Index over bins: sum_i (c_i - r_i) ln(c_i / r_i) with r, c the reference and
// window shares (count / total). Bins that are empty in both samples are dropped; remaining empty
// shares are filled per sample with Evidently's rule: 1e-4, or (smallest non-zero share) / 1e6 when
// that share is <= 1e-4. Returns 0 when either total is 0. Preconditions: equal lengths (extra
// entries ignored), counts >= 0 and finite. Complexity: O(K).
double Psi(std::span<const double> reference_counts, std::span<const double> window_counts);

// scipy.stats.wasserstein_distance(u, v): the L1 distance between the two empirical CDFs. Returns 0
// when either sample is empty. Precondition: finite values. Complexity: O((|u| + |v|) log).
double WassersteinDistance(std::span<const double> u, std::span<const double> v);

// Evidently's normed Wasserstein drift value: WassersteinDistance(reference, window) /
// max(PopulationStddev(reference), 0.001).
double NormedWassersteinDistance(std::span<const double> reference, std::span<const double> window);

// scipy.spatial.distance.jensenshannon(p, q) with natural log: the Jensen-Shannon distance (square
// root of the divergence) between the count vectors normalised to probabilities. No epsilon fill.
// Returns 0 when either total is 0 (and clamps rounding below 0 to 0, where scipy returns NaN).
// Preconditions: equal lengths (extra entries ignored), counts >= 0 and finite. Complexity: O(K).
double JensenShannonDistance(std::span<const double> p_counts, std::span<const double> q_counts);

// Population standard deviation (ddof = 0) by the two-pass formula with compensated sums, as
// numpy.std to within a few ulps. Returns 0 for an empty sample. Complexity: O(n).
double PopulationStddev(std::span<const double> values);

}  // namespace modelmon::detectors

#endif  // MODELMON_DETECTORS_STATISTICS_H_
