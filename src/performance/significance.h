#ifndef MODELMON_PERFORMANCE_SIGNIFICANCE_H_
#define MODELMON_PERFORMANCE_SIGNIFICANCE_H_

#include <cstdint>

namespace modelmon::performance {

// Result of a two-sided two-sample test. p_value is in [0, 1] and never NaN.
struct TestResult {
  double statistic;
  double p_value;
};

// Pooled two-proportion z-test, two-sided (statsmodels proportions_ztest semantics with the pooled
// variance): with p = successes / n and pooled = (successes_a + successes_b) / (n_a + n_b),
//   statistic = (p_a - p_b) / sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b)),
//   p_value = 2 * P(Z > |statistic|) = erfc(|statistic| / sqrt(2)) for a standard normal Z.
// Preconditions: n_a > 0, n_b > 0, 0 <= successes_x <= n_x. When the pooled proportion is 0 or 1
// (standard error 0), or when a precondition does not hold, returns statistic 0 and p_value 1.
// The p-value underflows to 0 for |statistic| above about 38.
// Pure function, thread-safe. O(1).
TestResult TwoProportionZTest(int64_t successes_a, int64_t n_a, int64_t successes_b, int64_t n_b);

// Welch's unequal-variance t-test from summary statistics, two-sided, as
// scipy.stats.ttest_ind_from_stats(mean_a, std_a, n_a, mean_b, std_b, n_b, equal_var=False);
// std_x is the sample standard deviation (ddof = 1). With v_x = std_x^2 / n_x:
//   statistic = (mean_a - mean_b) / sqrt(v_a + v_b),
//   df = (v_a + v_b)^2 / (v_a^2 / (n_a - 1) + v_b^2 / (n_b - 1))  (Welch-Satterthwaite),
//   p_value = 2 * P(T_df > |statistic|).
// Preconditions: n_a >= 2, n_b >= 2, means finite, std_x finite and >= 0, and std_x^2 / n_x
// finite. Degenerate cases (where scipy returns NaN):
//   - std_a == std_b == 0 and mean_a == mean_b: statistic 0, p_value 1;
//   - std_a == std_b == 0 and mean_a != mean_b: statistic +DBL_MAX when mean_a > mean_b and
//     -DBL_MAX otherwise, p_value 0 (the difference is certain);
//   - a precondition does not hold: statistic 0, p_value 1.
// A statistic that overflows is clamped to +-DBL_MAX (its p_value is then 0).
// Pure function, thread-safe. O(1) (one regularised incomplete beta evaluation).
TestResult WelchTTest(double mean_a, double std_a, int64_t n_a, double mean_b, double std_b,
                      int64_t n_b);

}  // namespace modelmon::performance

#endif  // MODELMON_PERFORMANCE_SIGNIFICANCE_H_
