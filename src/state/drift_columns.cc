#include "state/drift_columns.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>

namespace modelmon::state {

using detectors::DriftTest;

namespace {

constexpr uint32_t kMissingId = std::numeric_limits<uint32_t>::max();
constexpr double kMissingNumber = std::numeric_limits<double>::quiet_NaN();

}  // namespace

struct DriftColumns::Column {
  FeatureType type;
  std::vector<std::string> test_names;
  size_t dictionary_limit = 0;
  size_t max_categories = 50;
  int psi_bins = 10;
  // Ring storage: numerical values (NaN when missing) or dictionary ids (kMissingId when missing).
  std::vector<double> numbers;
  std::vector<uint32_t> ids;
  // Category dictionary (categorical only) and, with a reference, each id's bucket and whether the
  // reference knows it.
  ingest::StringMap<uint32_t> dictionary;
  std::vector<std::string> names;
  std::vector<uint32_t> bucket_of_id;
  std::vector<uint8_t> known_of_id;
  uint32_t overflow_id = kMissingId;
  // Drift state.
  std::shared_ptr<const detectors::NumericalReference> numerical_reference;
  std::shared_ptr<const detectors::CategoricalReference> categorical_reference;
  std::optional<detectors::NumericalWindowState> numerical;
  std::optional<detectors::CategoricalWindowState> categorical;
  std::vector<DriftTest> tests;
  // Values of synced events evicted since the last Sync() (numerical values, or reference buckets),
  // unless a rebuild is due.
  std::vector<double> evicted_numbers;
  std::vector<uint32_t> evicted_buckets;
  // Window quality counts.
  size_t missing = 0;
  size_t out_of_range = 0;
  size_t unseen = 0;
};

DriftColumns::DriftColumns(const ingest::ModelSchema& schema)
    : schema_(&schema),
      capacity_(schema.config().window.size),
      incremental_limit_(std::max<size_t>(64, capacity_ / 8)),
      arrival_(capacity_) {
  const ModelConfig& config = schema.config();
  for (size_t c = 0; c < schema.columns().size(); ++c) {
    Column col;
    col.type = schema.columns()[c].type;
    col.max_categories = config.drift.max_categories;
    col.psi_bins = config.drift.psi_bins;
    col.dictionary_limit = 4 * config.drift.max_categories + 1024;
    const bool numerical = col.type == FeatureType::kNumerical;
    if (c < config.features.size() && !config.features[c].tests.empty()) {
      col.test_names = config.features[c].tests;
    } else {
      col.test_names = numerical ? config.drift.numerical_tests : config.drift.categorical_tests;
    }
    if (col.test_names.empty()) col.test_names = {std::string(detectors::kAutoDriftTest), "psi"};
    if (numerical) {
      col.numbers.assign(capacity_, kMissingNumber);
    } else {
      col.ids.assign(capacity_, kMissingId);
    }
    columns_.push_back(std::move(col));
  }
  num_columns_ = columns_.size();
}

DriftColumns::~DriftColumns() = default;
DriftColumns::DriftColumns(DriftColumns&&) noexcept = default;
DriftColumns& DriftColumns::operator=(DriftColumns&&) noexcept = default;

uint32_t DriftColumns::Intern(Column& col, const std::string& category) {
  auto it = col.dictionary.find(category);
  if (it != col.dictionary.end()) return it->second;
  if (col.names.size() >= col.dictionary_limit) {
    if (col.overflow_id == kMissingId) {
      col.overflow_id = static_cast<uint32_t>(col.names.size());
      col.names.emplace_back("__overflow__");
    } else {
      return col.overflow_id;
    }
  } else {
    col.dictionary.emplace(category, static_cast<uint32_t>(col.names.size()));
    col.names.push_back(category);
  }
  const auto id = static_cast<uint32_t>(col.names.size() - 1);
  if (col.categorical_reference) MapToReference(col, id);
  return id;
}

void DriftColumns::MapToReference(Column& col, uint32_t id) {
  const bool overflow = id == col.overflow_id;
  const auto& ref = *col.categorical_reference;
  col.bucket_of_id.push_back(
      static_cast<uint32_t>(overflow ? ref.other_bucket() : ref.BucketOf(col.names[id])));
  col.known_of_id.push_back(!overflow && ref.IsKnown(col.names[id]));
}

void DriftColumns::Apply(size_t c, size_t slot, bool add, uint8_t* flags) {
  Column& col = columns_[c];
  uint8_t f = 0;
  if (col.type == FeatureType::kNumerical) {
    const double v = col.numbers[slot];
    if (std::isnan(v)) {
      f = kMissing;
    } else if (col.numerical_reference) {
      const auto& ref = *col.numerical_reference;
      if (ref.size() > 0 && (v < ref.min() || v > ref.max())) f = kOutOfRange;
    }
  } else {
    const uint32_t id = col.ids[slot];
    if (id == kMissingId) {
      f = kMissing;
    } else if (col.categorical_reference && !col.known_of_id[id]) {
      f = kUnseenCategory;
    }
  }
  const size_t delta_missing = (f & kMissing) ? 1 : 0;
  const size_t delta_range = (f & kOutOfRange) ? 1 : 0;
  const size_t delta_unseen = (f & kUnseenCategory) ? 1 : 0;
  if (add) {
    col.missing += delta_missing;
    col.out_of_range += delta_range;
    col.unseen += delta_unseen;
  } else {
    col.missing -= delta_missing;
    col.out_of_range -= delta_range;
    col.unseen -= delta_unseen;
  }
  if (flags != nullptr) *flags = f;
}

void DriftColumns::NoteChange() {
  if (rebuild_ || !has_reference_) return;
  if ((size_ - synced_) + evicted_ > incremental_limit_) {
    // Cheaper to rebuild every drift state from the ring at the next Sync().
    rebuild_ = true;
    evicted_ = 0;
    for (Column& col : columns_) {
      std::vector<double>().swap(col.evicted_numbers);
      std::vector<uint32_t>().swap(col.evicted_buckets);
    }
  }
}

void DriftColumns::RemoveOldest() {
  for (size_t c = 0; c < columns_.size(); ++c) Apply(c, head_, false, nullptr);
  if (synced_ > 0) {
    // The oldest events are the synced ones: their values must leave the drift states.
    --synced_;
    if (has_reference_ && !rebuild_) {
      ++evicted_;
      for (Column& col : columns_) {
        if (col.type == FeatureType::kNumerical) {
          if (!std::isnan(col.numbers[head_])) col.evicted_numbers.push_back(col.numbers[head_]);
        } else if (col.ids[head_] != kMissingId) {
          col.evicted_buckets.push_back(col.bucket_of_id[col.ids[head_]]);
        }
      }
    }
  }
  head_ = (head_ + 1) % capacity_;
  --size_;
  NoteChange();
}

void DriftColumns::Sync() {
  if (!has_reference_) {
    synced_ = size_;
    return;
  }
  // A rebuild replays the whole window into emptied states; otherwise the evicted values leave
  // and the events since the last Sync() enter.
  const size_t first = rebuild_ ? 0 : synced_;
  for (Column& col : columns_) {
    if (col.numerical) {
      std::vector<double> entering;
      entering.reserve(size_ - first);
      for (size_t i = first; i < size_; ++i) {
        const double v = col.numbers[(head_ + i) % capacity_];
        if (!std::isnan(v)) entering.push_back(v);
      }
      if (rebuild_) {
        col.numerical->Assign(std::move(entering));
      } else {
        for (double v : col.evicted_numbers) col.numerical->Remove(v);
        for (double v : entering) col.numerical->Add(v);
      }
    } else if (col.categorical) {
      if (rebuild_) col.categorical->Clear();
      for (uint32_t b : col.evicted_buckets) col.categorical->Remove(b);
      for (size_t i = first; i < size_; ++i) {
        const uint32_t id = col.ids[(head_ + i) % capacity_];
        if (id != kMissingId) col.categorical->Add(col.bucket_of_id[id]);
      }
    }
    col.evicted_numbers.clear();
    col.evicted_buckets.clear();
  }
  evicted_ = 0;
  synced_ = size_;
  rebuild_ = false;
}

void DriftColumns::Add(const ingest::PredictionEvent& event,
                       std::chrono::steady_clock::time_point arrival, std::vector<uint8_t>* flags,
                       std::vector<uint32_t>* bins) {
  if (size_ == capacity_) RemoveOldest();
  const size_t slot = (head_ + size_) % capacity_;
  arrival_[slot] = arrival;
  ++size_;
  flags->resize(columns_.size());
  bins->assign(columns_.size(), kNoBin);
  for (size_t c = 0; c < columns_.size(); ++c) {
    Column& col = columns_[c];
    const ingest::Value& v = event.columns[c];
    if (col.type == FeatureType::kNumerical) {
      col.numbers[slot] = v.kind == ingest::Value::Kind::kNumber && std::isfinite(v.number)
                              ? v.number
                              : kMissingNumber;
    } else {
      col.ids[slot] =
          v.kind == ingest::Value::Kind::kCategory ? Intern(col, v.category) : kMissingId;
    }
    Apply(c, slot, true, &(*flags)[c]);
    if ((*flags)[c] & kMissing) continue;
    if (col.numerical_reference) {
      (*bins)[c] = static_cast<uint32_t>(col.numerical_reference->BinOf(col.numbers[slot]));
    } else if (col.categorical_reference) {
      (*bins)[c] = col.bucket_of_id[col.ids[slot]];
    }
  }
  NoteChange();
}

std::vector<std::string> DriftColumns::BinNames(size_t c) const {
  const Column& col = columns_[c];
  std::vector<std::string> names;
  if (col.numerical_reference) {
    for (size_t b = 0; b < col.numerical_reference->num_bins(); ++b) {
      names.push_back(std::to_string(b));
    }
  } else if (col.categorical_reference) {
    for (size_t b = 0; b < col.categorical_reference->num_buckets(); ++b) {
      names.emplace_back(col.categorical_reference->BucketName(b));
    }
  }
  return names;
}

std::vector<double> DriftColumns::ReferenceShares(size_t c) const {
  const Column& col = columns_[c];
  std::span<const double> counts;
  if (col.numerical_reference) counts = col.numerical_reference->bin_counts();
  if (col.categorical_reference) counts = col.categorical_reference->bucket_counts();
  double total = 0;
  for (double n : counts) total += n;
  std::vector<double> shares;
  for (double n : counts) shares.push_back(total > 0 ? n / total : 0.0);
  return shares;
}

void DriftColumns::ExpireBefore(std::chrono::steady_clock::time_point cutoff) {
  while (size_ > 0 && arrival_[head_] < cutoff) RemoveOldest();
}

void DriftColumns::SetReference(ReferenceData& data) {
  for (size_t c = 0; c < columns_.size(); ++c) {
    Column& col = columns_[c];
    col.numerical.reset();
    col.categorical.reset();
    col.numerical_reference.reset();
    col.categorical_reference.reset();
    col.missing = col.out_of_range = col.unseen = 0;
    size_t reference_size = 0;
    if (col.type == FeatureType::kNumerical) {
      col.numerical_reference =
          detectors::NumericalReference::Build(std::move(data.numerical(c)), col.psi_bins);
      col.numerical.emplace(col.numerical_reference);
      reference_size = col.numerical_reference->size();
    } else {
      col.categorical_reference =
          detectors::CategoricalReference::Build(data.CategoryCounts(c), col.max_categories);
      col.categorical.emplace(col.categorical_reference);
      reference_size = col.categorical_reference->size();
      col.bucket_of_id.clear();
      col.known_of_id.clear();
      for (uint32_t id = 0; id < col.names.size(); ++id) MapToReference(col, id);
    }
    col.tests = detectors::ResolveDriftTests(col.test_names, col.type == FeatureType::kNumerical,
                                             reference_size);
  }
  has_reference_ = true;
  for (size_t i = 0; i < size_; ++i) {
    const size_t slot = (head_ + i) % capacity_;
    for (size_t c = 0; c < columns_.size(); ++c) Apply(c, slot, true, nullptr);
  }
  rebuild_ = true;
  Sync();
}

ReferenceData DriftColumns::WindowAsReference() const {
  ReferenceData data(*schema_);
  for (size_t i = 0; i < size_; ++i) {
    const size_t slot = (head_ + i) % capacity_;
    for (size_t c = 0; c < columns_.size(); ++c) {
      const Column& col = columns_[c];
      if (col.type == FeatureType::kNumerical) {
        if (!std::isnan(col.numbers[slot])) data.AddNumber(c, col.numbers[slot]);
      } else if (col.ids[slot] != kMissingId && col.ids[slot] != col.overflow_id) {
        data.AddCategory(c, col.names[col.ids[slot]]);
      }
    }
  }
  data.set_rows(size_);
  return data;
}

size_t DriftColumns::present(size_t c) const { return size_ - columns_[c].missing; }
size_t DriftColumns::missing(size_t c) const { return columns_[c].missing; }
size_t DriftColumns::out_of_range(size_t c) const { return columns_[c].out_of_range; }
size_t DriftColumns::unseen(size_t c) const { return columns_[c].unseen; }
const std::vector<DriftTest>& DriftColumns::tests(size_t c) const { return columns_[c].tests; }

size_t DriftColumns::reference_size(size_t c) const {
  const Column& col = columns_[c];
  if (col.numerical_reference) return col.numerical_reference->size();
  if (col.categorical_reference) return col.categorical_reference->size();
  return 0;
}

detectors::DriftOutcome DriftColumns::Evaluate(size_t c, DriftTest test) const {
  assert(synced());
  const Column& col = columns_[c];
  return col.numerical ? col.numerical->Evaluate(test) : col.categorical->Evaluate(test);
}

detectors::PendingKs DriftColumns::PrepareKs(size_t c) const {
  assert(synced());
  return columns_[c].numerical->PrepareKs();
}

std::optional<WindowStats> DriftColumns::Summary(size_t c) const {
  assert(synced());
  const Column& col = columns_[c];
  if (!col.numerical || col.numerical->size() == 0) return std::nullopt;
  return col.numerical->Summary();
}

DriftColumns::WindowExport DriftColumns::ExportWindow() const {
  WindowExport out;
  out.arrivals.reserve(size_);
  for (size_t i = 0; i < size_; ++i) out.arrivals.push_back(arrival_[(head_ + i) % capacity_]);
  out.columns.resize(columns_.size());
  for (size_t c = 0; c < columns_.size(); ++c) {
    const Column& col = columns_[c];
    WindowExport::ColumnValues& values = out.columns[c];
    // The ring from head_, in at most two contiguous pieces.
    const size_t first = std::min(size_, capacity_ - head_);
    const auto ring = [&](const auto& storage, auto& into) {
      into.assign(storage.begin() + static_cast<ptrdiff_t>(head_),
                  storage.begin() + static_cast<ptrdiff_t>(head_ + first));
      into.insert(into.end(), storage.begin(),
                  storage.begin() + static_cast<ptrdiff_t>(size_ - first));
    };
    if (col.type == FeatureType::kNumerical) {
      ring(col.numbers, values.numbers);
    } else {
      ring(col.ids, values.ids);
      values.names = col.names;
    }
  }
  return out;
}

const detectors::NumericalReference* DriftColumns::numerical_reference(size_t c) const {
  return columns_[c].numerical_reference.get();
}

}  // namespace modelmon::state
