#include "performance/isotonic.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numeric>

namespace modelmon::performance {

void PoolAdjacentViolators(std::vector<double>& y, std::vector<double>& w) {
  const size_t n = y.size();
  if (n == 0) return;
  // target[i] is the last index of the block starting at i, and target[last] its first.
  std::vector<size_t> target(n);
  std::iota(target.begin(), target.end(), size_t{0});
  size_t i = 0;
  while (i < n) {
    size_t k = target[i] + 1;
    if (k == n) break;
    if (y[i] < y[k]) {
      i = k;
      continue;
    }
    double sum_wy = w[i] * y[i];
    double sum_w = w[i];
    while (true) {
      const double prev_y = y[k];
      sum_wy += w[k] * y[k];
      sum_w += w[k];
      k = target[k] + 1;
      if (k == n || prev_y < y[k]) {
        y[i] = sum_wy / sum_w;
        w[i] = sum_w;
        target[i] = k - 1;
        target[k - 1] = i;
        if (i > 0) i = target[i - 1];
        break;
      }
    }
  }
  i = 0;
  while (i < n) {
    const size_t k = target[i] + 1;
    std::fill(y.begin() + static_cast<std::ptrdiff_t>(i + 1),
              y.begin() + static_cast<std::ptrdiff_t>(k), y[i]);
    i = k;
  }
}

std::optional<IsotonicRegression> IsotonicRegression::Fit(const std::vector<double>& x,
                                                          const std::vector<double>& y,
                                                          const std::vector<double>& w) {
  if (x.size() != y.size() || (!w.empty() && w.size() != x.size())) return std::nullopt;
  std::vector<size_t> order;
  order.reserve(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const double wi = w.empty() ? 1.0 : w[i];
    if (!std::isfinite(x[i]) || !std::isfinite(y[i]) || !std::isfinite(wi) || wi < 0) {
      return std::nullopt;
    }
    if (wi > 0) order.push_back(i);
  }
  if (order.empty()) return std::nullopt;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (x[a] != x[b]) return x[a] < x[b];
    if (y[a] != y[b]) return y[a] < y[b];
    return a < b;
  });
  // Merge tied x (within the resolution of double, as scikit-learn's _make_unique).
  constexpr double kResolution = 1e-15;
  std::vector<double> ux, uy, uw;
  double current_x = x[order[0]];
  double current_wy = 0;
  double current_w = 0;
  for (const size_t j : order) {
    const double wj = w.empty() ? 1.0 : w[j];
    if (x[j] - current_x >= kResolution) {
      ux.push_back(current_x);
      uw.push_back(current_w);
      uy.push_back(current_wy / current_w);
      current_x = x[j];
      current_w = wj;
      current_wy = y[j] * wj;
    } else {
      current_w += wj;
      current_wy += y[j] * wj;
    }
  }
  ux.push_back(current_x);
  uw.push_back(current_w);
  uy.push_back(current_wy / current_w);
  PoolAdjacentViolators(uy, uw);

  IsotonicRegression fit;
  const size_t m = ux.size();
  for (size_t i = 0; i < m; ++i) {
    const bool interior = i > 0 && i + 1 < m && uy[i - 1] == uy[i] && uy[i] == uy[i + 1];
    if (interior) continue;
    fit.x_.push_back(ux[i]);
    fit.y_.push_back(uy[i]);
  }
  return fit;
}

double IsotonicRegression::Predict(double x) const {
  if (x_.size() == 1) return y_[0];
  if (x <= x_.front()) return y_.front();
  if (x >= x_.back()) return y_.back();
  // x_[j] <= x < x_[j + 1].
  const size_t j = static_cast<size_t>(std::upper_bound(x_.begin(), x_.end(), x) - x_.begin()) - 1;
  const double slope = (y_[j + 1] - y_[j]) / (x_[j + 1] - x_[j]);
  double result = slope * (x - x_[j]) + y_[j];
  if (std::isnan(result)) {
    result = slope * (x - x_[j + 1]) + y_[j + 1];
    if (std::isnan(result) && y_[j] == y_[j + 1]) result = y_[j];
  }
  return result;
}

}  // namespace modelmon::performance
