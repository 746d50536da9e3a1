#include "detectors/drift.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "detectors/compensated_sum.h"
#include "detectors/radix_sort.h"
#include "detectors/statistics.h"

namespace modelmon::detectors {
namespace {

using internal::CompensatedSum;

// Evidently's floor on the reference std for the normed Wasserstein distance.
constexpr double kMinWassersteinScale = 0.001;

DriftOutcome Neutral(DriftTest test) {
  DriftOutcome out;
  out.test = test;
  if (HasPValue(test)) out.p_value = 1.0;
  return out;
}

double Finite(double x) { return std::isfinite(x) ? x : 0.0; }

double FiniteProbability(double p) {
  if (!(p >= 0.0)) return 0.0;  // NaN included; not expected.
  return std::min(p, 1.0);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// NumericalReference

std::shared_ptr<const NumericalReference> NumericalReference::Build(std::vector<double> values,
                                                                    int psi_bins) {
  std::shared_ptr<NumericalReference> ref(new NumericalReference());
  values.erase(
      std::remove_if(values.begin(), values.end(), [](double v) { return !std::isfinite(v); }),
      values.end());
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  ref->size_ = n;
  if (n == 0) {
    ref->bin_counts_.assign(1, 0.0);
    return ref;
  }
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && values[j] == values[i]) ++j;
    ref->distinct_.push_back(values[i]);
    ref->distinct_counts_.push_back(static_cast<int64_t>(j - i));
    i = j;
  }
  CompensatedSum sum;
  for (const double v : values) sum.Add(v);
  ref->mean_ = sum.value() / static_cast<double>(n);
  ref->stddev_ = PopulationStddev(values);

  const size_t bins = psi_bins < 1 ? 1 : static_cast<size_t>(psi_bins);
  for (size_t k = 1; k < bins; ++k) {
    // ceil(n k / bins) - 1, in integers.
    const double edge = values[(n * k + bins - 1) / bins - 1];
    if (edge < values.back() && (ref->edges_.empty() || edge > ref->edges_.back())) {
      ref->edges_.push_back(edge);
    }
  }
  ref->bin_counts_.assign(ref->edges_.size() + 1, 0.0);
  for (size_t i = 0; i < ref->distinct_.size(); ++i) {
    ref->bin_counts_[ref->BinOf(ref->distinct_[i])] +=
        static_cast<double>(ref->distinct_counts_[i]);
  }
  return ref;
}

size_t NumericalReference::BinOf(double value) const {
  if (edges_.size() <= 32) {
    // Branch-free count of the edges below the value: cheaper than a search for a few bins.
    size_t below = 0;
    for (const double edge : edges_) below += edge < value ? 1 : 0;
    return below;
  }
  return static_cast<size_t>(std::lower_bound(edges_.begin(), edges_.end(), value) -
                             edges_.begin());
}

size_t NumericalReference::SlotOf(double value) const {
  const auto it = std::lower_bound(distinct_.begin(), distinct_.end(), value);
  const auto i = static_cast<size_t>(it - distinct_.begin());
  return (it != distinct_.end() && *it == value) ? 2 * i + 1 : 2 * i;
}

// ---------------------------------------------------------------------------------------------
// NumericalWindowState

NumericalWindowState::NumericalWindowState(std::shared_ptr<const NumericalReference> reference)
    : reference_(std::move(reference)),
      slot_counts_(reference_->num_slots(), 0),
      bin_counts_(reference_->num_bins(), 0.0) {}

void NumericalWindowState::Add(double value) {
  if (!std::isfinite(value)) return;
  values_.Insert(value);
  ++slot_counts_[reference_->SlotOf(value)];
  bin_counts_[reference_->BinOf(value)] += 1.0;
}

void NumericalWindowState::Remove(double value) {
  if (!std::isfinite(value) || !values_.Erase(value)) return;
  --slot_counts_[reference_->SlotOf(value)];
  bin_counts_[reference_->BinOf(value)] -= 1.0;
}

void NumericalWindowState::Assign(std::vector<double> values) {
  std::erase_if(values, [](double v) { return !std::isfinite(v); });
  internal::SortDoubles(values);
  std::fill(slot_counts_.begin(), slot_counts_.end(), 0);
  std::fill(bin_counts_.begin(), bin_counts_.end(), 0.0);
  // One merge pass against the sorted distinct values and bin edges instead of a search per value.
  const std::span<const double> distinct = reference_->distinct_values();
  const std::span<const double> edges = reference_->bin_edges();
  size_t i = 0;
  size_t bin = 0;
  for (const double v : values) {
    while (i < distinct.size() && distinct[i] < v) ++i;
    ++slot_counts_[(i < distinct.size() && distinct[i] == v) ? 2 * i + 1 : 2 * i];
    while (bin < edges.size() && edges[bin] < v) ++bin;
    bin_counts_[bin] += 1.0;
  }
  values_.AssignSorted(std::move(values));
}

int64_t NumericalWindowState::KsScaledStatistic() const {
  const auto n1 = static_cast<int64_t>(reference_->size());
  const auto n2 = static_cast<int64_t>(values_.size());
  const std::span<const int64_t> ref_counts = reference_->distinct_counts();
  // Between two reference values the reference ECDF is constant and the window ECDF increases, so
  // |a n2 - b n1| inside a gap is extreme at the gap's last window value or at the reference value
  // before it: checking each gap end and each reference value is exact.
  int64_t a = 0;
  int64_t b = 0;
  int64_t best = 0;
  for (size_t i = 0; i < ref_counts.size(); ++i) {
    b += slot_counts_[2 * i];
    best = std::max(best, std::abs(a * n2 - b * n1));
    a += ref_counts[i];
    b += slot_counts_[2 * i + 1];
    best = std::max(best, std::abs(a * n2 - b * n1));
  }
  return best;
}

PendingKs NumericalWindowState::PrepareKs() const {
  PendingKs pending;
  pending.reference_size = static_cast<int64_t>(reference_->size());
  pending.window_size = static_cast<int64_t>(values_.size());
  if (pending.reference_size > 0 && pending.window_size > 0) {
    pending.scaled_statistic = KsScaledStatistic();
  }
  return pending;
}

DriftOutcome FinishKs(const PendingKs& pending) {
  if (pending.reference_size <= 0 || pending.window_size <= 0) return Neutral(DriftTest::kKs);
  const KsResult r =
      KsFromScaledStatistic(pending.reference_size, pending.window_size, pending.scaled_statistic);
  DriftOutcome out;
  out.test = DriftTest::kKs;
  out.statistic = Finite(r.statistic);
  out.p_value = FiniteProbability(r.p_value);
  return out;
}

double NumericalWindowState::WassersteinToReference() const {
  // The area between the quantile functions, the integral over p in (0, 1) of
  // |F_u^-1(p) - F_v^-1(p)|, which equals scipy's area between the ECDFs. In units of 1 / (nu nv)
  // the reference quantile steps at multiples of nv and the window's at multiples of nu, so the
  // walk over the merged steps compares integers in a periodic pattern instead of values.
  const std::span<const double> distinct = reference_->distinct_values();
  const std::span<const int64_t> counts = reference_->distinct_counts();
  const auto nu = static_cast<int64_t>(reference_->size());
  const auto nv = static_cast<int64_t>(values_.size());
  const int64_t total = nu * nv;
  internal::WindowValues::Cursor cursor(values_);
  size_t d = 0;
  int64_t copies_left = counts[0];  // Copies of distinct[d] not yet passed.
  double u = distinct[0];
  double v = cursor.value();
  int64_t next_u = nv;
  int64_t next_v = nu;
  int64_t pos = 0;
  CompensatedSum sum;
  while (true) {
    const int64_t next = std::min(next_u, next_v);
    sum.Add(std::abs(u - v) * static_cast<double>(next - pos));
    pos = next;
    if (pos == total) break;
    if (next == next_u) {
      next_u += nv;
      if (--copies_left == 0) {
        ++d;
        copies_left = counts[d];
        u = distinct[d];
      }
    }
    if (next == next_v) {
      next_v += nu;
      cursor.Next();
      v = cursor.value();
    }
  }
  return sum.value() / (static_cast<double>(nu) * static_cast<double>(nv));
}

DriftOutcome NumericalWindowState::Evaluate(DriftTest test) const {
  if (values_.empty() || reference_->size() == 0 || !Supports(test, FeatureKind::kNumerical)) {
    return Neutral(test);
  }
  DriftOutcome out;
  out.test = test;
  switch (test) {
    case DriftTest::kKs:
      return FinishKs(PrepareKs());
    case DriftTest::kPsi:
      out.statistic = Finite(Psi(reference_->bin_counts(), bin_counts_));
      break;
    case DriftTest::kJensenShannon:
      out.statistic = Finite(JensenShannonDistance(reference_->bin_counts(), bin_counts_));
      break;
    case DriftTest::kWasserstein:
      out.statistic =
          Finite(WassersteinToReference() / std::max(reference_->stddev(), kMinWassersteinScale));
      break;
    case DriftTest::kChi2:
      return Neutral(test);
  }
  return out;
}

WindowStats NumericalWindowState::Summary() const {
  WindowStats s;
  const size_t n = values_.size();
  if (n == 0) return s;
  s.count = n;
  CompensatedSum sum;
  for (internal::WindowValues::Cursor c(values_); c.valid(); c.Next()) sum.Add(c.value());
  s.mean = sum.value() / static_cast<double>(n);
  CompensatedSum squares;
  for (internal::WindowValues::Cursor c(values_); c.valid(); c.Next()) {
    const double dev = c.value() - s.mean;
    squares.Add(dev * dev);
  }
  s.stddev = std::sqrt(squares.value() / static_cast<double>(n));
  s.min = values_.min();
  s.max = values_.max();
  if (n % 2 == 1) {
    s.median = values_.Kth(n / 2);
  } else {
    const double lo = values_.Kth(n / 2 - 1);
    const double hi = values_.Kth(n / 2);
    s.median = (lo + hi) / 2;
    if (!std::isfinite(s.median)) s.median = lo / 2 + hi / 2;
  }
  if (reference_->size() > 0) {
    s.out_of_reference_range = static_cast<size_t>(slot_counts_.front() + slot_counts_.back());
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Categorical

std::shared_ptr<const CategoricalReference> CategoricalReference::Build(
    const std::vector<std::pair<std::string, int64_t>>& counts, size_t max_categories) {
  std::shared_ptr<CategoricalReference> ref(new CategoricalReference());
  std::map<std::string, int64_t, std::less<>> merged;
  for (const auto& [name, count] : counts) {
    if (count > 0) merged[name] += count;
  }
  std::vector<std::pair<std::string_view, int64_t>> order(merged.begin(), merged.end());
  // Most frequent first; equal counts by name (the map order), stable.
  std::stable_sort(order.begin(), order.end(),
                   [](const auto& x, const auto& y) { return x.second > y.second; });
  const size_t kept = std::min(max_categories, order.size());
  ref->names_.reserve(kept + 1);
  ref->counts_.assign(kept + 1, 0.0);
  for (size_t i = 0; i < order.size(); ++i) {
    const size_t bucket = i < kept ? i : kept;
    if (i < kept) ref->names_.emplace_back(order[i].first);
    ref->counts_[bucket] += static_cast<double>(order[i].second);
    ref->bucket_of_.emplace(std::string(order[i].first), bucket);
    ref->size_ += static_cast<size_t>(order[i].second);
  }
  ref->names_.emplace_back(kOtherBucket);
  return ref;
}

size_t CategoricalReference::BucketOf(std::string_view category) const {
  const auto it = bucket_of_.find(category);
  return it == bucket_of_.end() ? other_bucket() : it->second;
}

bool CategoricalReference::IsKnown(std::string_view category) const {
  return bucket_of_.find(category) != bucket_of_.end();
}

CategoricalWindowState::CategoricalWindowState(
    std::shared_ptr<const CategoricalReference> reference)
    : reference_(std::move(reference)), counts_(reference_->num_buckets(), 0) {}

void CategoricalWindowState::Add(size_t bucket) {
  if (bucket >= counts_.size()) bucket = counts_.size() - 1;
  ++counts_[bucket];
  ++size_;
}

void CategoricalWindowState::Remove(size_t bucket) {
  if (bucket >= counts_.size()) bucket = counts_.size() - 1;
  if (counts_[bucket] == 0) return;
  --counts_[bucket];
  --size_;
}

void CategoricalWindowState::Clear() {
  std::fill(counts_.begin(), counts_.end(), 0);
  size_ = 0;
}

DriftOutcome CategoricalWindowState::Evaluate(DriftTest test) const {
  if (size_ == 0 || reference_->size() == 0 || !Supports(test, FeatureKind::kCategorical)) {
    return Neutral(test);
  }
  std::vector<double> window(counts_.size());
  for (size_t i = 0; i < counts_.size(); ++i) window[i] = static_cast<double>(counts_[i]);
  const std::span<const double> ref = reference_->bucket_counts();
  DriftOutcome out;
  out.test = test;
  switch (test) {
    case DriftTest::kChi2: {
      const Chi2Result r = Chi2Homogeneity(ref, window);
      out.statistic = Finite(r.statistic);
      out.p_value = FiniteProbability(r.p_value);
      break;
    }
    case DriftTest::kPsi:
      out.statistic = Finite(Psi(ref, window));
      break;
    case DriftTest::kJensenShannon:
      out.statistic = Finite(JensenShannonDistance(ref, window));
      break;
    case DriftTest::kKs:
    case DriftTest::kWasserstein:
      return Neutral(test);
  }
  return out;
}

}  // namespace modelmon::detectors
