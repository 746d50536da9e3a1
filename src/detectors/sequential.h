#ifndef MODELMON_DETECTORS_SEQUENTIAL_H_
#define MODELMON_DETECTORS_SEQUENTIAL_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

// Sequential change detectors over a stream of scalars: Page-Hinkley, two-sided tabular CUSUM,
// ADWIN and DDM. Each is pure computation (no clock, no I/O) and deterministic: the same stream
// gives the same states bit for bit. None is thread-safe; the owner serialises every call.
// Non-finite inputs are ignored: Update returns kNone and changes nothing.

namespace modelmon::detectors {

enum class ChangeState { kNone, kWarning, kDrift };

// Page-Hinkley test (Page 1954) with forgetting, following river.drift.PageHinkley. Per value x,
// with n the number of values since the last reset:
//   n += 1; mean += (x - mean) / n; d = x - mean;
//   S+ = alpha S+ + d - delta;  S- = alpha S- + d + delta;
//   min+ = min(min+, S+);      max- = max(max-, S-);
// and, once n >= min_instances, drift when S+ - min+ > threshold (kUp or kBoth) or
// max- - S- > threshold (kDown or kBoth). After a drift the whole state (n, mean, S, min, max)
// resets before Update returns; the next value starts a fresh test. Never warns.
// O(1) time and memory per value. Not thread-safe; the owner serialises calls.
class PageHinkley {
 public:
  enum class Mode { kBoth, kUp, kDown };
  struct Params {
    int64_t min_instances = 30;
    double delta = 0.005;
    double threshold = 50.0;
    double alpha = 1.0 - 0.0001;
    Mode mode = Mode::kBoth;
  };

  PageHinkley() : PageHinkley(Params{}) {}
  explicit PageHinkley(const Params& params);

  ChangeState Update(double x);
  // Clears the test state; the detection counter is kept.
  void Reset();

  int64_t detections() const { return detections_; }
  int64_t count() const { return n_; }
  double mean() const { return mean_; }
  // S+ - min+ and max- - S- (0 before the first value).
  double increase_statistic() const { return n_ == 0 ? 0.0 : sum_up_ - min_up_; }
  double decrease_statistic() const { return n_ == 0 ? 0.0 : max_down_ - sum_down_; }

 private:
  Params params_;
  int64_t n_ = 0;
  double mean_ = 0.0;
  double sum_up_ = 0.0;
  double sum_down_ = 0.0;
  double min_up_ = 0.0;
  double max_down_ = 0.0;
  int64_t detections_ = 0;
};

// Two-sided tabular CUSUM (Page 1954; Montgomery, Introduction to Statistical Quality Control,
// section 9.1) on standardised values z = (x - mu) / sigma:
//   C+ = max(0, C+ + z - k);  C- = max(0, C- - z - k);  drift when C+ > h or C- > h.
// mu and sigma are the given targets, or, when a target is absent, learned from the first
// min_instances values (mean and sample standard deviation, ddof = 1; min_instances < 2 counts as
// 2); learning values return kNone and are not scored. With sigma == 0, z is 0 when x == mu and
// +/-infinity otherwise (any departure from a constant process is a drift). After a drift C+ and
// C- reset to 0 and learned targets are learned again from the next min_instances values; given
// targets are kept. Never warns. O(1) time and memory per value. Not thread-safe; the owner
// serialises calls.
class Cusum {
 public:
  struct Params {
    int64_t min_instances = 30;
    double k = 0.5;
    double h = 5.0;
    std::optional<double> target_mean;   // Precondition: finite when given.
    std::optional<double> target_sigma;  // Negative or NaN counts as absent.
  };

  Cusum() : Cusum(Params{}) {}
  explicit Cusum(const Params& params);

  ChangeState Update(double x);
  // Clears C+, C- and any learned target; the detection counter is kept.
  void Reset();

  int64_t detections() const { return detections_; }
  double upper() const { return upper_; }  // C+.
  double lower() const { return lower_; }  // C-.
  // Whether mu and sigma are known (given, or learned since the last reset).
  bool ready() const { return ready_; }
  double mu() const { return mu_; }
  double sigma() const { return sigma_; }

 private:
  Params params_;
  bool ready_ = false;
  double mu_ = 0.0;
  double sigma_ = 0.0;
  int64_t learn_n_ = 0;
  double learn_mean_ = 0.0;
  double learn_m2_ = 0.0;
  double upper_ = 0.0;
  double lower_ = 0.0;
  int64_t detections_ = 0;
};

// ADWIN (Bifet and Gavalda 2007, ADWIN2) over an exponential histogram: level i holds at most
// max_buckets buckets of 2^i values each, each with its sum and M2 (sum of squared deviations
// from its mean). A value enters as a new level-0 bucket; whenever a level holds max_buckets + 1
// buckets its two oldest merge (n = na + nb, sum = sa + sb, M2 = M2a + M2b + na nb / n (mean_a -
// mean_b)^2) into the newest bucket of the next level. The window's M2 is updated per value by
// M2 += (W - 1) / W (x - mean_old)^2.
// Every `clock` values, when the width W > grace_period, the cut test runs: for each boundary
// between consecutive buckets, oldest first, with W0 the older side (n0 values, mean mu0) and W1
// the newer (n1, mu1), both >= min_window_length:
//   delta' = ln(2 ln W / delta), m = 1 / (n0 - mwl + 1) + 1 / (n1 - mwl + 1),
//   eps = sqrt(2 m var delta') + (2 / 3) delta' m,  var = M2_W / W;
// drift when |mu0 - mu1| > eps: the oldest bucket is dropped (sum and M2 of the window lose it
// by the reverse of the merge rule) and the test restarts over the shrunk window, until no cut
// fires or W <= grace_period. Update returns kDrift when at least one cut fired; the counter
// counts such updates. Never warns. Memory O(max_buckets log W); time O(1) amortised per value
// plus O(max_buckets log W) per pass of the cut test. Not thread-safe; the owner serialises calls.
class Adwin {
 public:
  // Integer parameters below 1 count as 1.
  struct Params {
    double delta = 0.002;
    int64_t clock = 32;
    int64_t max_buckets = 5;
    int64_t min_window_length = 5;
    int64_t grace_period = 10;
  };

  Adwin() : Adwin(Params{}) {}
  explicit Adwin(const Params& params);

  ChangeState Update(double x);
  // Empties the window and the clock; the detection counter is kept.
  void Reset();

  int64_t detections() const { return detections_; }
  int64_t width() const { return width_; }
  double mean() const { return width_ == 0 ? 0.0 : sum_ / static_cast<double>(width_); }
  // Population variance of the window (M2 / W); 0 when empty.
  double variance() const { return width_ == 0 ? 0.0 : m2_ / static_cast<double>(width_); }
  size_t num_buckets() const;

 private:
  struct Bucket {
    double sum = 0.0;
    double m2 = 0.0;
  };
  // levels_[i]: buckets of 2^i values, oldest first.
  using Level = std::vector<Bucket>;

  void Compress();
  bool DetectOnce();
  void DropOldest();

  Params params_;
  std::vector<Level> levels_;
  int64_t width_ = 0;
  double sum_ = 0.0;
  double m2_ = 0.0;
  int64_t tick_ = 0;
  int64_t detections_ = 0;
};

// Drift Detection Method (Gama et al. 2004), following river.drift.binary.DDM, on a stream of
// errors (x != 0 is an error, 0 a correct prediction). With n values since the last reset and p
// their error rate, s = sqrt(p (1 - p) / n). Once n >= warm_start: if p + s <= p_min + s_min the
// pair (p_min, s_min) becomes (p, s) (both start at +infinity); then drift when p + s > p_min +
// drift_threshold s_min, else warning when p + s > p_min + warning_threshold s_min. The
// inequalities are strict, so a constant stream (s = 0) never alarms. After a drift the whole
// state resets before Update returns; a warning resets nothing. O(1) time and memory per value.
// Not thread-safe; the owner serialises calls.
class Ddm {
 public:
  struct Params {
    int64_t warm_start = 30;
    double warning_threshold = 2.0;
    double drift_threshold = 3.0;
  };

  Ddm() : Ddm(Params{}) {}
  explicit Ddm(const Params& params);

  ChangeState Update(double x);
  // Clears the test state; the detection counters are kept.
  void Reset();

  int64_t detections() const { return detections_; }
  int64_t warnings() const { return warnings_; }
  int64_t count() const { return n_; }
  double error_rate() const {
    return n_ == 0 ? 0.0 : static_cast<double>(errors_) / static_cast<double>(n_);
  }
  double p_min() const { return p_min_; }
  double s_min() const { return s_min_; }

 private:
  Params params_;
  int64_t n_ = 0;
  int64_t errors_ = 0;
  double p_min_ = 0.0;
  double s_min_ = 0.0;
  int64_t detections_ = 0;
  int64_t warnings_ = 0;
};

}  // namespace modelmon::detectors

#endif  // MODELMON_DETECTORS_SEQUENTIAL_H_
