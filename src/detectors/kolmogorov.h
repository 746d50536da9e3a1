#ifndef MODELMON_DETECTORS_KOLMOGOROV_H_
#define MODELMON_DETECTORS_KOLMOGOROV_H_

#include <cstdint>

// Distributions of Kolmogorov-Smirnov statistics, matching scipy 1.10.1. All functions are pure,
// reentrant and thread-safe; none allocates more than O(n) (DMTW: O(sqrt(n)^2)) scratch memory.

namespace modelmon::detectors {

// Survival function P(D+_n >= x) of the one-sided one-sample Smirnov statistic, as
// scipy.special.smirnov(n, x): the exact Birnbaum-Tingey sum for n <= 1e6 and scipy's
// exp(-(6nx+1)^2 / (18n)) approximation above. Precondition: n >= 1. x outside [0, 1] is clamped.
// Complexity: O(n) terms in the worst case; the sum stops once the remaining terms cannot change
// the double result, which for small p-values happens after a few terms.
double SmirnovSf(int64_t n, double x);

// Survival function P(D_n >= d) of the two-sided one-sample Kolmogorov statistic for sample size n,
// as scipy.stats.kstwo.sf(d, n) (Simard & L'Ecuyer 2011 selection: Ruben-Gambino closed forms,
// Durbin matrix (Marsaglia-Tsang-Wang), Pomeranz recursion, Pelz-Good asymptotic, 2 * SmirnovSf in
// the tail). Precondition: n >= 1; d outside [0, 1] gives 1 or 0. Result in [0, 1]. Complexity:
// O(1) to O(n) for the closed forms and tail; Pomeranz O(n^2 d) for n <= 140; Durbin O(k^3 log n +
// n) with k = ceil(n d) <= 1.25 n^(1/3) for n <= 1e5.
double KolmogorovSf(double d, int64_t n);

// Exact P(D_{m,n} >= h / lcm(m, n)) of the two-sided two-sample statistic under H0 (continuous
// data), as scipy's exact method: the alternating Horner sum when m == n, otherwise the Hodges
// "inside" lattice-path recursion for 1 - p (Viehmann 2021). Preconditions: m, n >= 1,
// 0 <= h <= lcm(m, n), g = gcd(m, n). May return a value outside [0, 1] only through rounding; the
// caller falls back to the asymptotic distribution in that case, like scipy.
// Complexity: O(n) when m == n; otherwise O(max(m, n) * (2h / (max(m, n) / g) + 1)), at most O(m
// n).
double KsTwoSampleExactSf(int64_t m, int64_t n, int64_t g, int64_t h);

}  // namespace modelmon::detectors

#endif  // MODELMON_DETECTORS_KOLMOGOROV_H_
