#include "performance/multiclass_estimation.h"

#include <cmath>
#include <cstddef>
#include <utility>

namespace modelmon::performance {
namespace {

// Mean of the values, nullopt when any is absent.
template <typename Get>
std::optional<double> Macro(size_t k, Get get) {
  double sum = 0;
  for (size_t c = 0; c < k; ++c) {
    const std::optional<double> v = get(c);
    if (!v.has_value()) return std::nullopt;
    sum += *v;
  }
  return sum / static_cast<double>(k);
}

// sqrt(sum SE_c^2) / K, nullopt when any is absent.
template <typename Get>
std::optional<double> MacroSe(size_t k, Get get) {
  double sum = 0;
  for (size_t c = 0; c < k; ++c) {
    const std::optional<double> v = get(c);
    if (!v.has_value()) return std::nullopt;
    sum += *v * *v;
  }
  return std::sqrt(sum) / static_cast<double>(k);
}

}  // namespace

std::optional<MulticlassConfidenceEstimator> MulticlassConfidenceEstimator::Fit(
    const std::vector<std::vector<double>>& scores, const std::vector<int32_t>& labels,
    const std::vector<int32_t>& predicted) {
  if (scores.empty() || scores.size() != labels.size() || predicted.size() != labels.size()) {
    return std::nullopt;
  }
  const size_t k = scores[0].size();
  if (k < 2) return std::nullopt;
  const auto in_range = [k](int32_t v) { return v >= 0 && static_cast<size_t>(v) < k; };
  for (size_t i = 0; i < scores.size(); ++i) {
    if (scores[i].size() != k || !in_range(labels[i]) || !in_range(predicted[i])) {
      return std::nullopt;
    }
  }
  MulticlassConfidenceEstimator est;
  for (size_t c = 0; c < k; ++c) {
    std::vector<double> s(scores.size());
    std::vector<int32_t> y(scores.size());
    for (size_t i = 0; i < scores.size(); ++i) {
      s[i] = scores[i][c];
      y[i] = labels[i] == static_cast<int32_t>(c) ? 1 : 0;
    }
    std::optional<BinaryCalibration> cal = BinaryCalibration::Decide(s, y);
    if (!cal.has_value()) return std::nullopt;
    est.calibrations_.push_back(std::move(*cal));
  }
  std::vector<std::vector<double>> p(scores.size());
  std::vector<double> correct(scores.size());
  for (size_t i = 0; i < scores.size(); ++i) {
    p[i] = est.Calibrate(scores[i]);
    correct[i] = labels[i] == predicted[i] ? 1.0 : 0.0;
  }
  double mean = 0;
  for (const double v : correct) mean += v;
  mean /= static_cast<double>(correct.size());
  double ss = 0;
  for (const double v : correct) ss += (v - mean) * (v - mean);
  est.accuracy_ = BinaryStandardErrorComponents::Component{
      std::sqrt(ss / static_cast<double>(correct.size())), 1.0};
  for (size_t c = 0; c < k; ++c) {
    std::vector<int32_t> y(scores.size()), yh(scores.size());
    std::vector<double> pc(scores.size());
    for (size_t i = 0; i < scores.size(); ++i) {
      y[i] = labels[i] == static_cast<int32_t>(c) ? 1 : 0;
      yh[i] = predicted[i] == static_cast<int32_t>(c) ? 1 : 0;
      pc[i] = p[i][c];
    }
    est.per_class_.push_back(StandardErrorComponents(y, yh, pc));
  }
  return est;
}

std::vector<double> MulticlassConfidenceEstimator::Calibrate(const std::vector<double>& row) const {
  std::vector<double> p(row.size());
  double sum = 0;
  for (size_t c = 0; c < row.size(); ++c) {
    p[c] = calibrations_[c].Calibrate(row[c]);
    sum += p[c];
  }
  for (double& v : p) v = sum == 0 ? 1.0 / static_cast<double>(row.size()) : v / sum;
  return p;
}

MulticlassEstimate MulticlassConfidenceEstimator::Estimate(
    const std::vector<std::vector<double>>& scores, const std::vector<int32_t>& predicted) const {
  const size_t k = calibrations_.size();
  MulticlassEstimate e;
  e.n = static_cast<int64_t>(scores.size());
  std::vector<std::vector<double>> pc(k, std::vector<double>(scores.size()));
  double predicted_mass = 0;
  for (size_t i = 0; i < scores.size(); ++i) {
    const std::vector<double> p = Calibrate(scores[i]);
    for (size_t c = 0; c < k; ++c) pc[c][i] = p[c];
    predicted_mass += p[static_cast<size_t>(predicted[i])];
  }
  for (size_t c = 0; c < k; ++c) {
    std::vector<int32_t> yh(scores.size());
    for (size_t i = 0; i < scores.size(); ++i) {
      yh[i] = predicted[i] == static_cast<int32_t>(c) ? 1 : 0;
    }
    e.per_class.push_back(EstimateBinary(pc[c], yh));
  }
  if (e.n == 0) return e;
  e.accuracy = predicted_mass / static_cast<double>(e.n);
  e.precision = Macro(k, [&](size_t c) { return e.per_class[c].precision; });
  e.recall = Macro(k, [&](size_t c) { return e.per_class[c].recall; });
  e.f1 = Macro(k, [&](size_t c) { return e.per_class[c].f1; });
  e.specificity = Macro(k, [&](size_t c) { return e.per_class[c].specificity; });
  e.roc_auc = Macro(k, [&](size_t c) { return e.per_class[c].roc_auc; });
  return e;
}

BinaryStandardErrors MulticlassConfidenceEstimator::Errors(int64_t n) const {
  const size_t k = per_class_.size();
  std::vector<BinaryStandardErrors> se;
  for (const auto& c : per_class_) se.push_back(StandardErrors(c, n));
  BinaryStandardErrors out;
  if (accuracy_.has_value()) {
    out.accuracy = accuracy_->std / std::sqrt(static_cast<double>(n) * accuracy_->fraction);
  }
  out.precision = MacroSe(k, [&](size_t c) { return se[c].precision; });
  out.recall = MacroSe(k, [&](size_t c) { return se[c].recall; });
  out.f1 = MacroSe(k, [&](size_t c) { return se[c].f1; });
  out.specificity = MacroSe(k, [&](size_t c) { return se[c].specificity; });
  out.roc_auc = MacroSe(k, [&](size_t c) { return se[c].roc_auc; });
  return out;
}

}  // namespace modelmon::performance
