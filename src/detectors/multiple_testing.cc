#include "detectors/multiple_testing.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numeric>

namespace modelmon::detectors {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

MultipleTestResult Empty(size_t size) {
  MultipleTestResult out;
  out.rejected.assign(size, false);
  out.adjusted.assign(size, kNaN);
  return out;
}

}  // namespace

MultipleTestResult Bonferroni(std::span<const double> p_values, double alpha) {
  MultipleTestResult out = Empty(p_values.size());
  const auto m = static_cast<double>(
      std::count_if(p_values.begin(), p_values.end(), [](double p) { return !std::isnan(p); }));
  const double cutoff = alpha / m;
  for (size_t i = 0; i < p_values.size(); ++i) {
    const double p = p_values[i];
    if (std::isnan(p)) continue;
    out.rejected[i] = p <= cutoff;
    out.adjusted[i] = std::min(1.0, m * p);
  }
  return out;
}

MultipleTestResult BenjaminiHochberg(std::span<const double> p_values, double alpha) {
  MultipleTestResult out = Empty(p_values.size());
  std::vector<size_t> order;
  order.reserve(p_values.size());
  for (size_t i = 0; i < p_values.size(); ++i) {
    if (!std::isnan(p_values[i])) order.push_back(i);
  }
  if (order.empty()) return out;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return p_values[a] < p_values[b]; });
  const auto m = static_cast<double>(order.size());
  size_t rejected = 0;  // k: the hypotheses of p_(1..k) are rejected.
  for (size_t i = 0; i < order.size(); ++i) {
    const double factor = static_cast<double>(i + 1) / m;
    if (p_values[order[i]] <= factor * alpha) rejected = i + 1;
  }
  double running = std::numeric_limits<double>::infinity();
  for (size_t i = order.size(); i-- > 0;) {
    const double factor = static_cast<double>(i + 1) / m;
    running = std::min(running, p_values[order[i]] / factor);
    out.adjusted[order[i]] = std::min(1.0, running);
    out.rejected[order[i]] = i < rejected;
  }
  return out;
}

}  // namespace modelmon::detectors
