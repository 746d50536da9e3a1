#include "performance/significance.h"

#include <boost/math/distributions/students_t.hpp>
#include <boost/math/special_functions/erf.hpp>
#include <cmath>
#include <limits>

namespace modelmon::performance {
namespace {

constexpr TestResult kNoEvidence{0.0, 1.0};
constexpr double kMaxDouble = std::numeric_limits<double>::max();

// Two-sided standard-normal tail 2 * P(Z > |z|), accurate in the far tail (no cancellation).
double NormalTwoSided(double z) { return boost::math::erfc(std::fabs(z) / std::sqrt(2.0)); }

}  // namespace

TestResult TwoProportionZTest(int64_t successes_a, int64_t n_a, int64_t successes_b, int64_t n_b) {
  if (n_a <= 0 || n_b <= 0 || successes_a < 0 || successes_b < 0 || successes_a > n_a ||
      successes_b > n_b) {
    return kNoEvidence;
  }
  const double sa = static_cast<double>(successes_a);
  const double sb = static_cast<double>(successes_b);
  const double na = static_cast<double>(n_a);
  const double nb = static_cast<double>(n_b);
  const double pooled = (sa + sb) / (na + nb);
  const double variance = pooled * (1.0 - pooled) * (1.0 / na + 1.0 / nb);
  if (!(variance > 0.0)) return kNoEvidence;  // pooled proportion 0 or 1
  const double z = (sa / na - sb / nb) / std::sqrt(variance);
  return {z, NormalTwoSided(z)};
}

TestResult WelchTTest(double mean_a, double std_a, int64_t n_a, double mean_b, double std_b,
                      int64_t n_b) {
  if (n_a < 2 || n_b < 2 || !std::isfinite(mean_a) || !std::isfinite(mean_b) ||
      !std::isfinite(std_a) || !std::isfinite(std_b) || std_a < 0.0 || std_b < 0.0) {
    return kNoEvidence;
  }
  const double na = static_cast<double>(n_a);
  const double nb = static_cast<double>(n_b);
  const double va = std_a * std_a / na;
  const double vb = std_b * std_b / nb;
  const double v = va + vb;
  if (!std::isfinite(v)) return kNoEvidence;
  const double difference = mean_a - mean_b;
  if (v == 0.0) {
    if (difference == 0.0) return kNoEvidence;
    return {difference > 0.0 ? kMaxDouble : -kMaxDouble, 0.0};
  }
  const double t = difference / std::sqrt(v);
  if (!std::isfinite(t)) return {t > 0.0 ? kMaxDouble : -kMaxDouble, 0.0};
  // Welch-Satterthwaite df in a scale-free form (shares of the variance), so that tiny or huge
  // variances cannot underflow or overflow: min(n) - 1 <= df <= n_a + n_b - 2.
  const double share_a = va / v;
  const double share_b = vb / v;
  const double df = 1.0 / (share_a * share_a / (na - 1.0) + share_b * share_b / (nb - 1.0));
  const boost::math::students_t_distribution<double> distribution(df);
  const double tail = boost::math::cdf(boost::math::complement(distribution, std::fabs(t)));
  return {t, std::fmin(1.0, 2.0 * tail)};
}

}  // namespace modelmon::performance
