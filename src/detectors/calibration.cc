#include "detectors/calibration.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <utility>

#include "detectors/statistics.h"

namespace modelmon::detectors {

NullDistribution::NullDistribution(std::vector<double> distances)
    : distances_(std::move(distances)) {
  std::sort(distances_.begin(), distances_.end());
}

double NullDistribution::Threshold(double alpha) const {
  if (distances_.empty()) return 0.0;
  const double b = static_cast<double>(distances_.size());
  const double k = std::ceil((1.0 - alpha) * b);
  size_t index = 1;
  if (k >= b) {
    index = distances_.size();
  } else if (k > 1.0) {
    index = static_cast<size_t>(k);
  }
  return distances_[index - 1];
}

double NullDistribution::PValue(double observed) const {
  const auto first = std::lower_bound(distances_.begin(), distances_.end(), observed);
  const auto at_least = static_cast<double>(distances_.end() - first);
  return (1.0 + at_least) / (static_cast<double>(distances_.size()) + 1.0);
}

std::optional<NullDistribution> CalibrateNumerical(std::span<const double> reference, int psi_bins,
                                                   DriftTest test,
                                                   const CalibrationParams& params) {
  std::vector<double> values;
  values.reserve(reference.size());
  for (const double v : reference) {
    if (std::isfinite(v)) values.push_back(v);
  }
  if (values.empty() || params.window_size == 0 || params.resamples == 0 ||
      !Supports(test, FeatureKind::kNumerical)) {
    return std::nullopt;
  }
  NumericalWindowState state(NumericalReference::Build(values, psi_bins));
  SplitMix64 rng(params.seed);
  std::vector<double> distances;
  distances.reserve(params.resamples);
  std::vector<double> window(params.window_size);
  for (size_t b = 0; b < params.resamples; ++b) {
    for (double& v : window) v = values[rng.Below(values.size())];
    state.Assign(window);
    distances.push_back(state.Evaluate(test).statistic);
  }
  return NullDistribution(std::move(distances));
}

std::optional<NullDistribution> CalibrateCategorical(std::span<const double> reference_counts,
                                                     DriftTest test,
                                                     const CalibrationParams& params) {
  std::vector<double> counts(reference_counts.size());
  std::vector<uint64_t> cumulative(reference_counts.size());
  uint64_t total = 0;
  for (size_t i = 0; i < reference_counts.size(); ++i) {
    const double c = reference_counts[i];
    const uint64_t whole = c >= 1.0 ? static_cast<uint64_t>(c) : 0;
    counts[i] = static_cast<double>(whole);
    total += whole;
    cumulative[i] = total;
  }
  if (total == 0 || params.window_size == 0 || params.resamples == 0 ||
      !Supports(test, FeatureKind::kCategorical)) {
    return std::nullopt;
  }
  SplitMix64 rng(params.seed);
  std::vector<double> distances;
  distances.reserve(params.resamples);
  std::vector<double> window(counts.size());
  for (size_t b = 0; b < params.resamples; ++b) {
    std::fill(window.begin(), window.end(), 0.0);
    for (size_t j = 0; j < params.window_size; ++j) {
      const uint64_t r = rng.Below(total);
      const auto bucket = std::upper_bound(cumulative.begin(), cumulative.end(), r);
      window[static_cast<size_t>(bucket - cumulative.begin())] += 1.0;
    }
    double d = 0.0;
    switch (test) {
      case DriftTest::kPsi:
        d = Psi(counts, window);
        break;
      case DriftTest::kJensenShannon:
        d = JensenShannonDistance(counts, window);
        break;
      case DriftTest::kChi2:
        d = Chi2Homogeneity(counts, window).statistic;
        break;
      case DriftTest::kKs:
      case DriftTest::kWasserstein:
        break;
    }
    distances.push_back(std::isfinite(d) ? d : 0.0);
  }
  return NullDistribution(std::move(distances));
}

}  // namespace modelmon::detectors
