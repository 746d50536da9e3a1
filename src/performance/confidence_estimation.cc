#include "performance/confidence_estimation.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numeric>

namespace modelmon::performance {
namespace {

bool ValidLabels(const std::vector<int32_t>& v) {
  return std::all_of(v.begin(), v.end(), [](int32_t x) { return x == 0 || x == 1; });
}

bool AllFinite(const std::vector<double>& v) {
  return std::all_of(v.begin(), v.end(), [](double x) { return std::isfinite(x); });
}

std::optional<double> Ratio(double num, double den) {
  if (den == 0) return std::nullopt;
  return num / den;
}

// Population standard deviation, two passes.
double PopulationStd(const std::vector<double>& v) {
  double sum = 0;
  for (const double x : v) sum += x;
  const double mean = sum / static_cast<double>(v.size());
  double ss = 0;
  for (const double x : v) ss += (x - mean) * (x - mean);
  return std::sqrt(ss / static_cast<double>(v.size()));
}

std::optional<BinaryStandardErrorComponents::Component> Component(const std::vector<double>& v,
                                                                  size_t total) {
  if (v.empty() || total == 0) return std::nullopt;
  return BinaryStandardErrorComponents::Component{
      PopulationStd(v), static_cast<double>(v.size()) / static_cast<double>(total)};
}

std::optional<double> Se(const std::optional<BinaryStandardErrorComponents::Component>& c,
                         int64_t n) {
  if (!c.has_value()) return std::nullopt;
  return c->std / std::sqrt(static_cast<double>(n) * c->fraction);
}

}  // namespace

Split StratifiedShuffleSplit(const std::vector<int32_t>& labels, SplitMix64& rng) {
  Split split;
  for (int32_t c = 0; c <= 1; ++c) {
    std::vector<size_t> idx;
    for (size_t i = 0; i < labels.size(); ++i) {
      if (labels[i] == c) idx.push_back(i);
    }
    for (size_t i = idx.size(); i > 1; --i) {
      const size_t j = static_cast<size_t>(rng.Below(i));
      std::swap(idx[i - 1], idx[j]);
    }
    const size_t n_test = (idx.size() + 9) / 10;
    split.test.insert(split.test.end(), idx.begin(),
                      idx.begin() + static_cast<std::ptrdiff_t>(n_test));
    split.train.insert(split.train.end(), idx.begin() + static_cast<std::ptrdiff_t>(n_test),
                       idx.end());
  }
  return split;
}

double ExpectedCalibrationError(const std::vector<double>& probabilities,
                                const std::vector<int32_t>& labels) {
  constexpr int kBins = 10;
  double sum_p[kBins] = {};
  double sum_y[kBins] = {};
  int64_t count[kBins] = {};
  for (size_t i = 0; i < probabilities.size(); ++i) {
    const double p = std::clamp(probabilities[i], 0.0, 1.0);
    const int b = std::min(kBins - 1, static_cast<int>(std::floor(p * kBins)));
    sum_p[b] += p;
    sum_y[b] += labels[i];
    ++count[b];
  }
  if (probabilities.empty()) return 0;
  const double n = static_cast<double>(probabilities.size());
  double ece = 0;
  for (int b = 0; b < kBins; ++b) {
    if (count[b] == 0) continue;
    const double nb = static_cast<double>(count[b]);
    ece += nb / n * std::fabs(sum_p[b] / nb - sum_y[b] / nb);
  }
  return ece;
}

std::optional<double> RocAuc(const std::vector<double>& scores,
                             const std::vector<int32_t>& labels) {
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  double positives = 0;
  double negatives = 0;
  double pairs = 0;  // positive-negative pairs ordered correctly, ties one half
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    double pos = 0;
    double neg = 0;
    while (j < order.size() && scores[order[j]] == scores[order[i]]) {
      (labels[order[j]] == 1 ? pos : neg) += 1;
      ++j;
    }
    pairs += pos * (negatives + neg / 2);
    positives += pos;
    negatives += neg;
    i = j;
  }
  if (positives == 0 || negatives == 0) return std::nullopt;
  return pairs / (positives * negatives);
}

std::optional<BinaryCalibration> BinaryCalibration::Decide(const std::vector<double>& scores,
                                                           const std::vector<int32_t>& labels,
                                                           uint64_t seed) {
  if (scores.empty() || scores.size() != labels.size() || !ValidLabels(labels) ||
      !AllFinite(scores)) {
    return std::nullopt;
  }
  BinaryCalibration cal;
  const std::optional<double> auc = RocAuc(scores, labels);
  if (!auc.has_value() || *auc > 0.999) return cal;
  SplitMix64 rng(seed);
  double raw = 0;
  double calibrated = 0;
  for (int s = 0; s < kSplits; ++s) {
    const Split split = StratifiedShuffleSplit(labels, rng);
    std::vector<double> train_x, train_y, test_p, test_c;
    std::vector<int32_t> test_y;
    for (const size_t i : split.train) {
      train_x.push_back(scores[i]);
      train_y.push_back(labels[i]);
    }
    const std::optional<IsotonicRegression> iso = IsotonicRegression::Fit(train_x, train_y);
    for (const size_t i : split.test) {
      test_p.push_back(scores[i]);
      test_y.push_back(labels[i]);
      test_c.push_back(iso.has_value() ? iso->Predict(scores[i]) : scores[i]);
    }
    raw += ExpectedCalibrationError(test_p, test_y);
    calibrated += ExpectedCalibrationError(test_c, test_y);
  }
  cal.ece_raw_ = raw / kSplits;
  cal.ece_calibrated_ = calibrated / kSplits;
  if (*cal.ece_calibrated_ < *cal.ece_raw_) {
    std::vector<double> y(labels.begin(), labels.end());
    cal.isotonic_ = IsotonicRegression::Fit(scores, y);
  }
  return cal;
}

double BinaryCalibration::Calibrate(double score) const {
  return isotonic_.has_value() ? isotonic_->Predict(score) : score;
}

BinaryEstimate EstimateBinary(const std::vector<double>& probabilities,
                              const std::vector<int32_t>& predicted) {
  BinaryEstimate e;
  e.n = static_cast<int64_t>(probabilities.size());
  for (size_t i = 0; i < probabilities.size(); ++i) {
    const double p = probabilities[i];
    if (predicted[i] == 1) {
      e.tp += p;
      e.fp += 1 - p;
    } else {
      e.tn += 1 - p;
      e.fn += p;
    }
  }
  if (e.n == 0) return e;
  e.accuracy = (e.tp + e.tn) / static_cast<double>(e.n);
  e.precision = Ratio(e.tp, e.tp + e.fp);
  e.recall = Ratio(e.tp, e.tp + e.fn);
  e.specificity = Ratio(e.tn, e.tn + e.fp);
  e.f1 = Ratio(e.tp, e.tp + (e.fp + e.fn) / 2);

  // Thresholds from the highest down: cumulative expected positives and negatives above.
  std::vector<double> sorted = probabilities;
  std::sort(sorted.begin(), sorted.end());
  double total_pos = 0;
  double total_neg = 0;
  for (const double p : sorted) {
    total_pos += p;
    total_neg += 1 - p;
  }
  if (total_pos == 0 || total_neg == 0) return e;
  double area = 0;
  double tp = 0;
  double fp = 0;
  double prev_tpr = 0;
  double prev_fpr = 0;
  for (size_t i = sorted.size(); i > 0;) {
    const double t = sorted[i - 1];
    while (i > 0 && sorted[i - 1] == t) {
      tp += sorted[i - 1];
      fp += 1 - sorted[i - 1];
      --i;
    }
    const double tpr = tp / total_pos;
    const double fpr = fp / total_neg;
    area += (fpr - prev_fpr) * (tpr + prev_tpr) / 2;
    prev_tpr = tpr;
    prev_fpr = fpr;
  }
  e.roc_auc = area;
  return e;
}

BinaryStandardErrorComponents StandardErrorComponents(const std::vector<int32_t>& labels,
                                                      const std::vector<int32_t>& predicted,
                                                      const std::vector<double>& probabilities) {
  const size_t n = labels.size();
  std::vector<double> acc, prec, rec, spec, f1;
  double tp = 0, fp = 0, fn = 0;
  for (size_t i = 0; i < n; ++i) {
    const int32_t y = labels[i];
    const int32_t yh = predicted[i];
    acc.push_back(y == yh ? 1.0 : 0.0);
    if (yh == 1) prec.push_back(y);
    if (y == 1) rec.push_back(yh);
    if (y == 0) spec.push_back(yh == 0 ? 1.0 : 0.0);
    if (y == 1 && yh == 1) ++tp;
    if (y == 0 && yh == 1) ++fp;
    if (y == 1 && yh == 0) ++fn;
  }
  if (tp + fp + fn > 0) {
    const double c = (tp + fp + fn) / (tp + (fp + fn) / 2);
    f1.assign(static_cast<size_t>(tp), c);
    f1.resize(static_cast<size_t>(tp + fp + fn), 0.0);
  }
  BinaryStandardErrorComponents out;
  out.accuracy = Component(acc, n);
  out.precision = Component(prec, n);
  out.recall = Component(rec, n);
  out.specificity = Component(spec, n);
  out.f1 = Component(f1, n);

  // Placement of each minority-class row among the other class.
  const double n_pos = static_cast<double>(rec.size());
  const double n_neg = static_cast<double>(spec.size());
  if (n_pos > 0 && n_neg > 0) {
    const int32_t minority = n_pos <= n_neg ? 1 : 0;
    const double n_other = minority == 1 ? n_neg : n_pos;
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), size_t{0});
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return probabilities[a] < probabilities[b]; });
    std::vector<double> placements;
    double other_below = 0;
    for (size_t i = 0; i < n;) {
      size_t j = i;
      double other_equal = 0;
      while (j < n && probabilities[order[j]] == probabilities[order[i]]) {
        if (labels[order[j]] != minority) ++other_equal;
        ++j;
      }
      for (size_t k = i; k < j; ++k) {
        if (labels[order[k]] != minority) continue;
        // For class 0 as minority, "below" in the flipped scores 1 - p is "above" here.
        const double below =
            minority == 1 ? other_below + other_equal / 2 : n_other - other_below - other_equal / 2;
        placements.push_back(below / n_other);
      }
      other_below += other_equal;
      i = j;
    }
    out.roc_auc = Component(placements, n);
  }
  return out;
}

BinaryStandardErrors StandardErrors(const BinaryStandardErrorComponents& c, int64_t n) {
  BinaryStandardErrors se;
  se.accuracy = Se(c.accuracy, n);
  se.precision = Se(c.precision, n);
  se.recall = Se(c.recall, n);
  se.f1 = Se(c.f1, n);
  se.specificity = Se(c.specificity, n);
  se.roc_auc = Se(c.roc_auc, n);
  return se;
}

std::optional<BinaryConfidenceEstimator> BinaryConfidenceEstimator::Fit(
    const std::vector<double>& scores, const std::vector<int32_t>& labels,
    const std::vector<int32_t>& predicted) {
  if (predicted.size() != labels.size() || !ValidLabels(predicted)) return std::nullopt;
  std::optional<BinaryCalibration> cal = BinaryCalibration::Decide(scores, labels);
  if (!cal.has_value()) return std::nullopt;
  std::vector<double> p(scores.size());
  for (size_t i = 0; i < scores.size(); ++i) p[i] = cal->Calibrate(scores[i]);
  return BinaryConfidenceEstimator(std::move(*cal), StandardErrorComponents(labels, predicted, p));
}

BinaryEstimate BinaryConfidenceEstimator::Estimate(const std::vector<double>& scores,
                                                   const std::vector<int32_t>& predicted) const {
  std::vector<double> p(scores.size());
  for (size_t i = 0; i < scores.size(); ++i) {
    p[i] = std::clamp(calibration_.Calibrate(scores[i]), 0.0, 1.0);
  }
  return EstimateBinary(p, predicted);
}

}  // namespace modelmon::performance
