#include "performance/regression.h"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace modelmon::performance {

RegressionWindow::Terms RegressionWindow::Evaluate(double y_true, double y_pred) {
  Terms t{};
  t.error = y_pred - y_true;
  t.abs_error = std::fabs(t.error);
  t.squared_error = t.error * t.error;
  t.ape = t.abs_error / std::fmax(std::fabs(y_true), std::numeric_limits<double>::epsilon());
  const DoubleDouble square = DdFromProduct(y_true, y_true);
  t.y_square_hi = square.hi;
  t.y_square_lo = square.lo;
  if (!std::isfinite(y_true) || !std::isfinite(y_pred) || !std::isfinite(t.squared_error) ||
      !std::isfinite(t.ape) || !std::isfinite(t.y_square_hi) || !std::isfinite(t.y_square_lo)) {
    throw std::invalid_argument("regression values must be finite, with finite squares");
  }
  return t;
}

void RegressionWindow::Add(double y_true, double y_pred) {
  const Terms t = Evaluate(y_true, y_pred);
  ++samples_;
  abs_error_.Add(t.abs_error);
  squared_error_.Add(t.squared_error);
  error_.Add(t.error);
  ape_.Add(t.ape);
  y_.Add(y_true);
  y_square_.Add(t.y_square_hi);
  y_square_.Add(t.y_square_lo);
  ++y_counts_[y_true];
}

void RegressionWindow::Remove(double y_true, double y_pred) {
  const Terms t = Evaluate(y_true, y_pred);
  --samples_;
  abs_error_.Subtract(t.abs_error);
  squared_error_.Subtract(t.squared_error);
  error_.Subtract(t.error);
  ape_.Subtract(t.ape);
  y_.Subtract(y_true);
  y_square_.Subtract(t.y_square_hi);
  y_square_.Subtract(t.y_square_lo);
  const auto it = y_counts_.find(y_true);
  if (it != y_counts_.end() && --it->second <= 0) y_counts_.erase(it);
}

RegressionMetrics RegressionWindow::Compute() const {
  RegressionMetrics m;
  m.samples = samples_;
  if (samples_ == 0) return m;
  const double n = static_cast<double>(samples_);
  m.mae = abs_error_.Value() / n;
  const double residual = squared_error_.Value();
  m.mse = residual / n;
  m.rmse = std::sqrt(m.mse);
  m.mape = ape_.Value() / n;
  m.mean_error = error_.Value() / n;
  if (samples_ < 2) return m;
  if (residual == 0.0) {
    m.r2 = 1.0;
  } else if (y_counts_.size() <= 1) {
    m.r2 = 0.0;
  } else {
    // SS_tot = S2 - S1^2 / n; positive because y_true is not constant.
    const DoubleDouble s1 = y_.ValueDd();
    const DoubleDouble total = DdSub(y_square_.ValueDd(), DdDiv(DdMul(s1, s1), n));
    const double ss_tot = total.hi + total.lo;
    m.r2 = ss_tot > 0.0 ? 1.0 - residual / ss_tot : 0.0;
  }
  return m;
}

}  // namespace modelmon::performance
