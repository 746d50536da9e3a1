#include "detectors/sequential.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace modelmon::detectors {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

}  // namespace

PageHinkley::PageHinkley(const Params& params) : params_(params) { Reset(); }

void PageHinkley::Reset() {
  n_ = 0;
  mean_ = 0.0;
  sum_up_ = 0.0;
  sum_down_ = 0.0;
  min_up_ = kInf;
  max_down_ = -kInf;
}

ChangeState PageHinkley::Update(double x) {
  if (!std::isfinite(x)) return ChangeState::kNone;
  ++n_;
  mean_ += (x - mean_) / static_cast<double>(n_);
  const double d = x - mean_;
  sum_up_ = params_.alpha * sum_up_ + d - params_.delta;
  sum_down_ = params_.alpha * sum_down_ + d + params_.delta;
  min_up_ = std::min(min_up_, sum_up_);
  max_down_ = std::max(max_down_, sum_down_);
  if (n_ < params_.min_instances) return ChangeState::kNone;
  const bool up = params_.mode != Mode::kDown && sum_up_ - min_up_ > params_.threshold;
  const bool down = params_.mode != Mode::kUp && max_down_ - sum_down_ > params_.threshold;
  if (!up && !down) return ChangeState::kNone;
  ++detections_;
  Reset();
  return ChangeState::kDrift;
}

Cusum::Cusum(const Params& params) : params_(params) {
  params_.min_instances = std::max<int64_t>(params_.min_instances, 2);
  if (params_.target_sigma && !(*params_.target_sigma >= 0.0)) params_.target_sigma.reset();
  Reset();
}

void Cusum::Reset() {
  upper_ = 0.0;
  lower_ = 0.0;
  learn_n_ = 0;
  learn_mean_ = 0.0;
  learn_m2_ = 0.0;
  ready_ = params_.target_mean.has_value() && params_.target_sigma.has_value();
  mu_ = params_.target_mean.value_or(0.0);
  sigma_ = params_.target_sigma.value_or(0.0);
}

ChangeState Cusum::Update(double x) {
  if (!std::isfinite(x)) return ChangeState::kNone;
  if (!ready_) {
    ++learn_n_;
    const double before = learn_mean_;
    learn_mean_ += (x - before) / static_cast<double>(learn_n_);
    learn_m2_ += (x - before) * (x - learn_mean_);
    if (learn_n_ >= params_.min_instances) {
      if (!params_.target_mean) mu_ = learn_mean_;
      if (!params_.target_sigma) {
        sigma_ = std::sqrt(learn_m2_ / static_cast<double>(learn_n_ - 1));
      }
      ready_ = true;
    }
    return ChangeState::kNone;
  }
  double z = 0.0;
  if (sigma_ > 0.0) {
    z = (x - mu_) / sigma_;
  } else if (x != mu_) {
    z = x > mu_ ? kInf : -kInf;
  }
  upper_ = std::max(0.0, upper_ + z - params_.k);
  lower_ = std::max(0.0, lower_ - z - params_.k);
  if (!(upper_ > params_.h) && !(lower_ > params_.h)) return ChangeState::kNone;
  ++detections_;
  Reset();
  return ChangeState::kDrift;
}

Adwin::Adwin(const Params& params) : params_(params) {
  params_.clock = std::max<int64_t>(params_.clock, 1);
  params_.max_buckets = std::max<int64_t>(params_.max_buckets, 1);
  params_.min_window_length = std::max<int64_t>(params_.min_window_length, 1);
  params_.grace_period = std::max<int64_t>(params_.grace_period, 1);
}

void Adwin::Reset() {
  levels_.clear();
  width_ = 0;
  sum_ = 0.0;
  m2_ = 0.0;
  tick_ = 0;
}

size_t Adwin::num_buckets() const {
  size_t n = 0;
  for (const Level& level : levels_) n += level.size();
  return n;
}

ChangeState Adwin::Update(double x) {
  if (!std::isfinite(x)) return ChangeState::kNone;
  if (width_ > 0) {
    const double w = static_cast<double>(width_);
    const double diff = x - sum_ / w;
    m2_ += w / (w + 1.0) * diff * diff;
  }
  ++width_;
  sum_ += x;
  if (levels_.empty()) levels_.emplace_back();
  levels_[0].push_back(Bucket{x, 0.0});
  Compress();
  ++tick_;
  if (tick_ % params_.clock != 0) return ChangeState::kNone;
  bool drift = false;
  while (width_ > params_.grace_period && DetectOnce()) {
    drift = true;
    DropOldest();
  }
  if (!drift) return ChangeState::kNone;
  ++detections_;
  return ChangeState::kDrift;
}

void Adwin::Compress() {
  const auto limit = static_cast<size_t>(params_.max_buckets);
  for (size_t i = 0; i < levels_.size() && levels_[i].size() > limit; ++i) {
    const Bucket a = levels_[i][0];
    const Bucket b = levels_[i][1];
    levels_[i].erase(levels_[i].begin(), levels_[i].begin() + 2);
    const double n = std::ldexp(1.0, static_cast<int>(i));
    const double diff = a.sum / n - b.sum / n;
    Bucket merged{a.sum + b.sum, a.m2 + b.m2 + n * n / (2.0 * n) * diff * diff};
    if (i + 1 == levels_.size()) levels_.emplace_back();
    levels_[i + 1].push_back(merged);
  }
}

bool Adwin::DetectOnce() {
  const double w = static_cast<double>(width_);
  const double delta_prime = std::log(2.0 * std::log(w) / params_.delta);
  const double var = m2_ / w;
  const auto mwl = static_cast<double>(params_.min_window_length);
  double n0 = 0.0;
  double sum0 = 0.0;
  for (size_t level = levels_.size(); level-- > 0;) {
    const double size = std::ldexp(1.0, static_cast<int>(level));
    for (const Bucket& bucket : levels_[level]) {
      n0 += size;
      sum0 += bucket.sum;
      const double n1 = w - n0;
      if (n1 <= 0.0) return false;
      if (n0 < mwl || n1 < mwl) continue;
      const double mu0 = sum0 / n0;
      const double mu1 = (sum_ - sum0) / n1;
      const double m = 1.0 / (n0 - mwl + 1.0) + 1.0 / (n1 - mwl + 1.0);
      const double eps = std::sqrt(2.0 * m * var * delta_prime) + 2.0 / 3.0 * delta_prime * m;
      if (std::abs(mu0 - mu1) > eps) return true;
    }
  }
  return false;
}

void Adwin::DropOldest() {
  while (!levels_.empty() && levels_.back().empty()) levels_.pop_back();
  if (levels_.empty()) return;
  const size_t level = levels_.size() - 1;
  const Bucket b = levels_[level].front();
  levels_[level].erase(levels_[level].begin());
  const double nb = std::ldexp(1.0, static_cast<int>(level));
  const double w = static_cast<double>(width_);
  const double rest = w - nb;
  if (rest <= 0.0) {
    width_ = 0;
    sum_ = 0.0;
    m2_ = 0.0;
  } else {
    const double diff = b.sum / nb - (sum_ - b.sum) / rest;
    m2_ = std::max(0.0, m2_ - b.m2 - nb * rest / w * diff * diff);
    sum_ -= b.sum;
    width_ -= static_cast<int64_t>(nb);
  }
  while (!levels_.empty() && levels_.back().empty()) levels_.pop_back();
}

Ddm::Ddm(const Params& params) : params_(params) { Reset(); }

void Ddm::Reset() {
  n_ = 0;
  errors_ = 0;
  p_min_ = kInf;
  s_min_ = kInf;
}

ChangeState Ddm::Update(double x) {
  if (!std::isfinite(x)) return ChangeState::kNone;
  ++n_;
  if (x != 0.0) ++errors_;
  if (n_ < params_.warm_start) return ChangeState::kNone;
  const double n = static_cast<double>(n_);
  const double p = static_cast<double>(errors_) / n;
  const double s = std::sqrt(p * (1.0 - p) / n);
  if (p + s <= p_min_ + s_min_) {
    p_min_ = p;
    s_min_ = s;
  }
  if (p + s > p_min_ + params_.drift_threshold * s_min_) {
    ++detections_;
    Reset();
    return ChangeState::kDrift;
  }
  if (p + s > p_min_ + params_.warning_threshold * s_min_) {
    ++warnings_;
    return ChangeState::kWarning;
  }
  return ChangeState::kNone;
}

}  // namespace modelmon::detectors
