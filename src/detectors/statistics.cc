#include "detectors/statistics.h"

#include <algorithm>
#include <boost/math/policies/policy.hpp>
#include <boost/math/special_functions/gamma.hpp>
#include <cmath>
#include <cstddef>
#include <numeric>
#include <vector>

#include "detectors/compensated_sum.h"
#include "detectors/kolmogorov.h"

namespace modelmon::detectors {
namespace {

using internal::CompensatedSum;

// scipy's ks_2samp method='auto' switch to the asymptotic distribution.
constexpr int64_t kMaxExactKsSize = 10000;

using QuietPolicy = boost::math::policies::policy<
    boost::math::policies::domain_error<boost::math::policies::ignore_error>,
    boost::math::policies::pole_error<boost::math::policies::ignore_error>,
    boost::math::policies::overflow_error<boost::math::policies::ignore_error>,
    boost::math::policies::evaluation_error<boost::math::policies::ignore_error>>;

double Clip01(double p) {
  if (!(p > 0.0)) return 0.0;
  return p > 1.0 ? 1.0 : p;
}

std::vector<double> Sorted(std::span<const double> values) {
  std::vector<double> out(values.begin(), values.end());
  std::sort(out.begin(), out.end());
  return out;
}

// Shares count / total with Evidently's fill of empty shares.
std::vector<double> FilledShares(const std::vector<double>& counts, double total) {
  std::vector<double> shares(counts.size());
  double min_nonzero = 0.0;
  for (size_t i = 0; i < counts.size(); ++i) {
    shares[i] = counts[i] / total;
    if (shares[i] > 0.0 && (min_nonzero == 0.0 || shares[i] < min_nonzero)) {
      min_nonzero = shares[i];
    }
  }
  const double fill = min_nonzero <= 1e-4 ? min_nonzero / 1e6 : 1e-4;
  for (double& s : shares) {
    if (s == 0.0) s = fill;
  }
  return shares;
}

// x ln(x / y) with scipy.special.rel_entr's conventions for x == 0.
double RelEntr(double x, double y) {
  if (x > 0.0 && y > 0.0) return x * std::log(x / y);
  return 0.0;
}

}  // namespace

KsResult KsTwoSample(std::span<const double> a, std::span<const double> b) {
  if (a.empty() || b.empty()) return {};
  const std::vector<double> sa = Sorted(a);
  const std::vector<double> sb = Sorted(b);
  const auto n1 = static_cast<int64_t>(sa.size());
  const auto n2 = static_cast<int64_t>(sb.size());
  size_t i = 0;
  size_t j = 0;
  int64_t best = 0;
  while (i < sa.size() || j < sb.size()) {
    const double x = (j == sb.size() || (i < sa.size() && sa[i] <= sb[j])) ? sa[i] : sb[j];
    while (i < sa.size() && sa[i] == x) ++i;
    while (j < sb.size() && sb[j] == x) ++j;
    const int64_t diff = static_cast<int64_t>(i) * n2 - static_cast<int64_t>(j) * n1;
    best = std::max(best, diff < 0 ? -diff : diff);
  }
  return KsFromScaledStatistic(n1, n2, best);
}

KsResult KsFromScaledStatistic(int64_t n1, int64_t n2, int64_t scaled_d) {
  if (n1 < 1 || n2 < 1) return {};
  const int64_t g = std::gcd(n1, n2);
  const int64_t lcm = (n1 / g) * n2;
  const double d = static_cast<double>(scaled_d / g) / static_cast<double>(lcm);
  return {d, KsTwoSamplePValue(n1, n2, d)};
}

double KsTwoSamplePValue(int64_t n1, int64_t n2, double d) {
  if (n1 < 1 || n2 < 1) return 1.0;
  d = std::clamp(d, 0.0, 1.0);
  if (std::max(n1, n2) <= kMaxExactKsSize) {
    const int64_t g = std::gcd(n1, n2);
    const int64_t lcm = (n1 / g) * n2;
    const auto h = static_cast<int64_t>(std::nearbyint(d * static_cast<double>(lcm)));
    if (h == 0) return 1.0;
    const double p = KsTwoSampleExactSf(n1, n2, g, h);
    if (p >= 0.0 && p <= 1.0) return p;
    d = static_cast<double>(h) / static_cast<double>(lcm);
  }
  const auto m = static_cast<double>(std::max(n1, n2));
  const auto n = static_cast<double>(std::min(n1, n2));
  const double en = m * n / (m + n);
  return Clip01(KolmogorovSf(d, static_cast<int64_t>(std::nearbyint(en))));
}

Chi2Result Chi2Homogeneity(std::span<const double> reference_counts,
                           std::span<const double> window_counts) {
  const size_t k = std::min(reference_counts.size(), window_counts.size());
  std::vector<double> ref;
  std::vector<double> win;
  ref.reserve(k);
  win.reserve(k);
  for (size_t i = 0; i < k; ++i) {
    if (reference_counts[i] == 0.0 && window_counts[i] == 0.0) continue;
    ref.push_back(reference_counts[i]);
    win.push_back(window_counts[i]);
  }
  if (ref.size() < 2) return {};
  CompensatedSum ref_sum;
  CompensatedSum win_sum;
  for (size_t i = 0; i < ref.size(); ++i) {
    ref_sum.Add(ref[i]);
    win_sum.Add(win[i]);
  }
  const double row[2] = {ref_sum.value(), win_sum.value()};
  if (!(row[0] > 0.0) || !(row[1] > 0.0)) return {};
  const double total = row[0] + row[1];
  const auto dof = static_cast<int64_t>(ref.size()) - 1;
  CompensatedSum statistic;
  const std::vector<double>* rows[2] = {&ref, &win};
  for (int r = 0; r < 2; ++r) {
    for (size_t c = 0; c < ref.size(); ++c) {
      const double column = ref[c] + win[c];
      const double expected = row[r] * column / total;
      double observed = (*rows[r])[c];
      if (dof == 1) {
        // Yates: move the observed count toward the expected one by min(0.5, |E - O|).
        const double diff = expected - observed;
        const double magnitude = std::min(0.5, std::abs(diff));
        observed += diff > 0 ? magnitude : (diff < 0 ? -magnitude : 0.0);
      }
      const double dev = observed - expected;
      statistic.Add(dev * dev / expected);
    }
  }
  const double stat = statistic.value();
  return {stat, Chi2Sf(stat, static_cast<double>(dof)), dof};
}

double Chi2Sf(double x, double dof) {
  if (!(dof > 0.0) || !(x > 0.0)) return 1.0;
  if (std::isinf(x)) return 0.0;
  return Clip01(boost::math::gamma_q(dof / 2, x / 2, QuietPolicy()));
}

double Psi(std::span<const double> reference_counts, std::span<const double> window_counts) {
  const size_t k = std::min(reference_counts.size(), window_counts.size());
  std::vector<double> ref;
  std::vector<double> win;
  CompensatedSum ref_total;
  CompensatedSum win_total;
  for (size_t i = 0; i < k; ++i) {
    if (reference_counts[i] == 0.0 && window_counts[i] == 0.0) continue;
    ref.push_back(reference_counts[i]);
    win.push_back(window_counts[i]);
    ref_total.Add(reference_counts[i]);
    win_total.Add(window_counts[i]);
  }
  if (!(ref_total.value() > 0.0) || !(win_total.value() > 0.0)) return 0.0;
  const std::vector<double> r = FilledShares(ref, ref_total.value());
  const std::vector<double> c = FilledShares(win, win_total.value());
  CompensatedSum psi;
  for (size_t i = 0; i < r.size(); ++i) psi.Add((c[i] - r[i]) * std::log(c[i] / r[i]));
  return std::max(psi.value(), 0.0);
}

double WassersteinDistance(std::span<const double> u, std::span<const double> v) {
  if (u.empty() || v.empty()) return 0.0;
  const std::vector<double> su = Sorted(u);
  const std::vector<double> sv = Sorted(v);
  const auto nu = static_cast<double>(su.size());
  const auto nv = static_cast<double>(sv.size());
  size_t i = 0;
  size_t j = 0;
  CompensatedSum sum;
  double x = std::min(su[0], sv[0]);
  while (true) {
    while (i < su.size() && su[i] == x) ++i;
    while (j < sv.size() && sv[j] == x) ++j;
    if (i == su.size() && j == sv.size()) break;
    const double next = (j == sv.size() || (i < su.size() && su[i] <= sv[j])) ? su[i] : sv[j];
    const double cdf_diff = static_cast<double>(i) / nu - static_cast<double>(j) / nv;
    sum.Add(std::abs(cdf_diff) * (next - x));
    x = next;
  }
  return std::max(sum.value(), 0.0);
}

double NormedWassersteinDistance(std::span<const double> reference,
                                 std::span<const double> window) {
  return WassersteinDistance(reference, window) / std::max(PopulationStddev(reference), 0.001);
}

double JensenShannonDistance(std::span<const double> p_counts, std::span<const double> q_counts) {
  const size_t k = std::min(p_counts.size(), q_counts.size());
  CompensatedSum p_total;
  CompensatedSum q_total;
  for (size_t i = 0; i < k; ++i) {
    p_total.Add(p_counts[i]);
    q_total.Add(q_counts[i]);
  }
  if (!(p_total.value() > 0.0) || !(q_total.value() > 0.0)) return 0.0;
  CompensatedSum left;
  CompensatedSum right;
  for (size_t i = 0; i < k; ++i) {
    const double p = p_counts[i] / p_total.value();
    const double q = q_counts[i] / q_total.value();
    const double m = (p + q) / 2.0;
    left.Add(RelEntr(p, m));
    right.Add(RelEntr(q, m));
  }
  const double js = left.value() + right.value();
  return js > 0.0 ? std::sqrt(js / 2.0) : 0.0;
}

double PopulationStddev(std::span<const double> values) {
  if (values.empty()) return 0.0;
  const auto n = static_cast<double>(values.size());
  CompensatedSum sum;
  for (const double x : values) sum.Add(x);
  const double mean = sum.value() / n;
  CompensatedSum squares;
  for (const double x : values) squares.Add((x - mean) * (x - mean));
  return std::sqrt(squares.value() / n);
}

}  // namespace modelmon::detectors
