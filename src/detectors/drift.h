#ifndef MODELMON_DETECTORS_DRIFT_H_
#define MODELMON_DETECTORS_DRIFT_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "detectors/drift_tests.h"
#include "detectors/window_values.h"

// Streaming drift detection: an immutable reference per feature, built once, and a window state
// updated per event (Add / Remove) and evaluated every few seconds. Results equal the batch
// functions of detectors/statistics.h applied to the reference and the current window contents
// (exactly for the integer-based statistics; to rounding for the others).

namespace modelmon::detectors {

struct DriftOutcome {
  DriftTest test = DriftTest::kKs;
  double statistic = 0.0;         // Always finite.
  std::optional<double> p_value;  // ks and chi2 only; always finite, in [0, 1].
};

// The O(R) part of a KS evaluation, so that callers can compute the (possibly expensive) p-value
// outside their lock: NumericalWindowState::PrepareKs() under the lock, FinishKs() after it.
struct PendingKs {
  int64_t reference_size = 0;
  int64_t window_size = 0;
  int64_t scaled_statistic = 0;  // max |a n2 - b n1|; D = scaled_statistic / (n1 n2).
};

// Completes a PendingKs: the outcome NumericalWindowState::Evaluate(DriftTest::kKs) returns
// (neutral when a size is 0). Pure and thread-safe. Complexity: KsTwoSamplePValue.
DriftOutcome FinishKs(const PendingKs& pending);

// Summary of the numerical window for the status API and metrics.
struct WindowStats {
  size_t count = 0;
  double mean = 0.0;
  double stddev = 0.0;  // Population (ddof = 0).
  double min = 0.0;
  double median = 0.0;  // As numpy.median: mean of the two middle values for an even count.
  double max = 0.0;
  size_t out_of_reference_range = 0;  // Values < reference min or > reference max.
};

// Reference sample of a numerical feature. Immutable after Build; safe to share across threads.
//
// PSI and Jensen-Shannon bins: with n reference values sorted as x[0..n-1] and B = psi_bins, the
// candidate edges are the inverted-CDF quantiles e_k = x[ceil(n k / B) - 1] for k = 1..B-1 (numpy's
// quantile method 'inverted_cdf'); duplicates and edges equal to the maximum are dropped, so every
// bin holds at least one reference value. A value v falls in bin i = number of edges < v (bins are
// right-closed: (-inf, e_1], (e_1, e_2], ..., (e_last, +inf)). A constant reference therefore has a
// single bin (PSI and Jensen-Shannon 0 for any window).
class NumericalReference {
 public:
  // values: the reference sample; non-finite values are dropped. psi_bins < 1 is treated as 1.
  // An empty sample gives size() == 0 (every window evaluation is then neutral).
  // Complexity: O(n log n) time, O(R + B) memory (R distinct values, B bins).
  static std::shared_ptr<const NumericalReference> Build(std::vector<double> values, int psi_bins);

  size_t size() const { return size_; }
  // 0 when empty.
  double min() const { return distinct_.empty() ? 0.0 : distinct_.front(); }
  double max() const { return distinct_.empty() ? 0.0 : distinct_.back(); }
  double mean() const { return mean_; }
  double stddev() const { return stddev_; }  // Population (ddof = 0), as numpy.std.

  // Distinct values ascending and their multiplicities.
  std::span<const double> distinct_values() const { return distinct_; }
  std::span<const int64_t> distinct_counts() const { return distinct_counts_; }
  // PSI / Jensen-Shannon bin edges (see the class comment) and reference counts per bin.
  std::span<const double> bin_edges() const { return edges_; }
  std::span<const double> bin_counts() const { return bin_counts_; }
  size_t num_bins() const { return bin_counts_.size(); }
  // Bin of a value. O(log B).
  size_t BinOf(double value) const;
  // KS slot of a value: 2i + 1 when it equals distinct value i, 2i when it lies strictly between
  // distinct values i - 1 and i (below the minimum for i = 0), 2R above the maximum. O(log R).
  size_t SlotOf(double value) const;
  size_t num_slots() const { return 2 * distinct_.size() + 1; }

 private:
  NumericalReference() = default;

  size_t size_ = 0;
  double mean_ = 0.0;
  double stddev_ = 0.0;
  std::vector<double> distinct_;
  std::vector<int64_t> distinct_counts_;
  std::vector<double> edges_;
  std::vector<double> bin_counts_;
};

// Window-side state of one numerical feature against one reference: per-slot counts for KS, per-bin
// counts for PSI / Jensen-Shannon, and the sorted window values for Wasserstein and the summary.
// Memory: 8 (2R + 1) + 8 B bytes plus at most ~16 bytes per windowed value. Not thread-safe;
// callers serialise access.
class NumericalWindowState {
 public:
  // Precondition: reference is non-null.
  explicit NumericalWindowState(std::shared_ptr<const NumericalReference> reference);

  // Adds one value. Non-finite values are ignored (callers count them as missing).
  // O(log R + log B + log W + WindowValues::kChunk).
  void Add(double value);
  // Removes one value previously added. Removing a value that is not in the window (or is not
  // finite) changes nothing. Same complexity as Add.
  void Remove(double value);
  // Replaces the window contents with `values` (non-finite ones dropped): the same state as Adds of
  // each value into an empty window, built in bulk. O(W log W + R + B).
  void Assign(std::vector<double> values);
  size_t size() const { return values_.size(); }
  const NumericalReference& reference() const { return *reference_; }

  // Supports kKs, kPsi, kWasserstein and kJensenShannon:
  //  ks: scipy.stats.ks_2samp(reference, window) statistic and p-value (O(R) + KsTwoSamplePValue);
  //  psi: Psi over the reference bins (O(B)); jensen_shannon: JensenShannonDistance over the same
  //  bins (O(B)); wasserstein: scipy.stats.wasserstein_distance(reference, window) /
  //  max(reference stddev, 0.001) (O(N + W), N = reference().size()).
  // When size() == 0, reference().size() == 0 or the test is unsupported the outcome is neutral:
  // statistic 0 and, for ks and chi2, p-value 1. Equal constant samples give KS D = 0, p = 1.
  DriftOutcome Evaluate(DriftTest test) const;
  // max |a n2 - b n1| over the pooled points (a, b: reference and window counts <= the point), the
  // integer form of the KS statistic D = scaled / (n1 n2). O(R).
  int64_t KsScaledStatistic() const;
  // Snapshot for FinishKs(). O(R).
  PendingKs PrepareKs() const;
  // Window counts per reference bin.
  std::span<const double> bin_counts() const { return bin_counts_; }
  // Summary of the window; all zero when empty. O(W).
  WindowStats Summary() const;
  // Heap bytes held for the window values (excluding the per-slot and per-bin counts).
  size_t ValueMemoryBytes() const { return values_.MemoryBytes(); }

 private:
  double WassersteinToReference() const;

  std::shared_ptr<const NumericalReference> reference_;
  std::vector<int64_t> slot_counts_;
  std::vector<double> bin_counts_;
  internal::WindowValues values_;
};

// Reference of a categorical feature: the max_categories most frequent categories (ties broken by
// name, ascending, so the choice is deterministic) each get a bucket, in that order, and one last
// bucket "__other__" collects every other category, including those never seen in the reference.
// Immutable after Build; safe to share across threads.
class CategoricalReference {
 public:
  static constexpr std::string_view kOtherBucket = "__other__";

  // counts: (category, count) pairs; repeated names are summed, counts <= 0 ignored.
  // Complexity: O(C log C) time, O(C) memory for C categories.
  static std::shared_ptr<const CategoricalReference> Build(
      const std::vector<std::pair<std::string, int64_t>>& counts, size_t max_categories);

  size_t size() const { return size_; }  // Total reference count.
  size_t num_buckets() const { return names_.size(); }
  size_t other_bucket() const { return names_.size() - 1; }
  // Bucket of a category; other_bucket() when unknown or not among the top categories.
  // O(1) average (hash lookup, no allocation).
  size_t BucketOf(std::string_view category) const;
  // Whether the category occurs in the reference at all. O(1) average.
  bool IsKnown(std::string_view category) const;
  // Name of a bucket ("__other__" for the last). Precondition: bucket < num_buckets().
  std::string_view BucketName(size_t bucket) const { return names_[bucket]; }
  // Reference counts per bucket.
  std::span<const double> bucket_counts() const { return counts_; }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  CategoricalReference() = default;

  size_t size_ = 0;
  std::vector<std::string> names_;
  std::vector<double> counts_;
  // Every known category -> its bucket (other_bucket() for those outside the top categories).
  std::unordered_map<std::string, size_t, Hash, std::equal_to<>> bucket_of_;
};

// Window-side bucket counts of one categorical feature. Memory: 8 bytes per bucket; nothing per
// windowed value. Not thread-safe; callers serialise access.
class CategoricalWindowState {
 public:
  // Precondition: reference is non-null.
  explicit CategoricalWindowState(std::shared_ptr<const CategoricalReference> reference);

  // bucket: from reference().BucketOf(); out-of-range buckets count as the other bucket. O(1).
  void Add(size_t bucket);
  // Removing from an empty bucket changes nothing. O(1).
  void Remove(size_t bucket);
  // Empties the window. O(K).
  void Clear();
  size_t size() const { return size_; }
  const CategoricalReference& reference() const { return *reference_; }

  // Supports kChi2 (Chi2Homogeneity), kPsi (Psi) and kJensenShannon (JensenShannonDistance) over
  // the buckets. O(K). Neutral outcome (statistic 0; p-value 1 for chi2) when either side is empty
  // or the test is unsupported; a single populated bucket gives chi2 0, p 1 and PSI / JS 0.
  DriftOutcome Evaluate(DriftTest test) const;
  std::span<const int64_t> counts() const { return counts_; }

 private:
  std::shared_ptr<const CategoricalReference> reference_;
  std::vector<int64_t> counts_;
  size_t size_ = 0;
};

}  // namespace modelmon::detectors

#endif  // MODELMON_DETECTORS_DRIFT_H_
