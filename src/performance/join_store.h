#ifndef MODELMON_PERFORMANCE_JOIN_STORE_H_
#define MODELMON_PERFORMANCE_JOIN_STORE_H_

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

namespace modelmon::performance {

// Joins predictions with their delayed ground-truth labels by id, whichever arrives first.
//
// Semantics:
//   - First prediction wins: a prediction for an id that already has a pending prediction, or
//     whose id is in the recently-joined set, is kDuplicate and dropped.
//   - First label wins likewise: a label for an id with a pending label, or for a recently joined
//     id, is kDuplicate and dropped (not stored).
//   - A prediction whose label is pending (or a label whose prediction is pending) is kJoined: the
//     pending entry is removed, the pair is returned, and the id enters the recently-joined set.
//   - Otherwise the entry is stored (kStored). When its kind is full, the oldest pending entry of
//     that kind (by arrival order) is evicted first and counted in Result::evicted.
//   - Recently-joined ids form a FIFO of at most max_joined_ids ids (oldest forgotten first); once
//     forgotten, an id can be stored and joined again.
//   - Expire(now) drops pending entries whose arrival + ttl <= now. Add* never expires anything:
//     an entry past its TTL stays joinable until the next Expire call, so call Expire(now) before
//     adding when TTLs must be strict.
// Time is injected: `now` arguments must be non-decreasing across calls (steady clock). Entries
// are kept in arrival order and Expire stops at the first unexpired one, so an earlier `now`
// only delays expiry of the entries that follow it; nothing else depends on the order.
// max_predictions and max_labels below 1 are treated as 1.
//
// Memory: at most max_predictions + max_labels pending entries and max_joined_ids remembered ids
// (each holding its id string, a slot and at most two 16-byte index buckets; holes left by joins
// are bounded by the entry count plus 1024), whatever the input.
// Not thread-safe; callers serialise access.
// Complexity: AddPrediction, AddLabel O(1) average (hash lookups on the id, O(|id|) hashing);
// Expire O(1 + entries dropped); the pending counts O(1).
template <typename Prediction, typename Label>
class JoinStore {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  struct Options {
    size_t max_predictions = 100000;  // pending predictions
    std::chrono::nanoseconds prediction_ttl = std::chrono::hours(24);
    size_t max_labels = 10000;  // pending labels (arrived before their prediction)
    std::chrono::nanoseconds label_ttl = std::chrono::hours(1);
    size_t max_joined_ids = 100000;  // recently joined ids remembered to detect duplicates
  };
  struct Joined {
    Prediction prediction;
    Label label;
    TimePoint prediction_at;
    TimePoint label_at;
  };
  enum class Outcome { kStored, kJoined, kDuplicate };
  struct Result {
    Outcome outcome;
    std::optional<Joined> joined;  // set iff outcome == kJoined
    size_t evicted = 0;            // entries of the same kind dropped (oldest first) to make room
  };
  struct Expired {
    size_t predictions = 0;
    size_t labels = 0;
  };

  explicit JoinStore(Options options)
      : options_(options),
        predictions_(std::max<size_t>(options.max_predictions, 1), options.prediction_ttl),
        labels_(std::max<size_t>(options.max_labels, 1), options.label_ttl) {}

  // Takes ownership of `p` when stored or joined; drops it on kDuplicate.
  Result AddPrediction(std::string_view id, Prediction p, TimePoint now) {
    if (!joined_ids_.empty() && joined_ids_.count(id) != 0) {
      return {Outcome::kDuplicate, std::nullopt, 0};
    }
    // An id cannot have both a pending label and a pending prediction: they would have joined.
    if (auto label = labels_.Take(id)) {
      Remember(id);
      return {Outcome::kJoined, Joined{std::move(p), std::move(label->value), now, label->at}, 0};
    }
    const std::optional<size_t> evicted = predictions_.TryInsert(id, std::move(p), now);
    if (!evicted) return {Outcome::kDuplicate, std::nullopt, 0};
    return {Outcome::kStored, std::nullopt, *evicted};
  }

  // Takes ownership of `l` when stored or joined; drops it on kDuplicate.
  Result AddLabel(std::string_view id, Label l, TimePoint now) {
    if (auto prediction = predictions_.Take(id)) {
      Remember(id);
      return {Outcome::kJoined,
              Joined{std::move(prediction->value), std::move(l), prediction->at, now}, 0};
    }
    if (!joined_ids_.empty() && joined_ids_.count(id) != 0) {
      return {Outcome::kDuplicate, std::nullopt, 0};
    }
    const std::optional<size_t> evicted = labels_.TryInsert(id, std::move(l), now);
    if (!evicted) return {Outcome::kDuplicate, std::nullopt, 0};
    return {Outcome::kStored, std::nullopt, *evicted};
  }

  // Drops pending entries (both kinds) whose arrival + ttl <= now. Recently-joined ids are bounded
  // by count only and are not affected.
  Expired Expire(TimePoint now) { return {predictions_.Expire(now), labels_.Expire(now)}; }

  size_t pending_predictions() const { return predictions_.size(); }
  size_t pending_labels() const { return labels_.size(); }
  size_t remembered_joined_ids() const { return joined_ids_.size(); }

  // Snapshot support, apart from the join path. Visits pending predictions / labels in arrival
  // order as f(id, value, arrival), and remembered joined ids oldest first as f(id). O(entries).
  template <typename F>
  void ForEachPendingPrediction(F&& f) const {
    predictions_.ForEach(f);
  }
  template <typename F>
  void ForEachPendingLabel(F&& f) const {
    labels_.ForEach(f);
  }
  template <typename F>
  void ForEachJoinedId(F&& f) const {
    for (const std::string& id : joined_order_) f(id);
  }
  // Re-adds a remembered joined id (restoring, before any pending entry); no-op when known.
  void RestoreJoinedId(std::string_view id) {
    if (joined_ids_.count(id) == 0) Remember(id);
  }

 private:
  // Pending entries of one kind in arrival order: a deque of slots, where an entry taken out of
  // the middle leaves a hole until it reaches the front (or a compaction, once holes outnumber
  // entries), and an open-addressing index (linear probing, backward-shift deletion, load <= 1/2)
  // from the id's hash to the slot's sequence number. A lookup touches one index bucket run and
  // one slot; each id is hashed once per call.
  template <typename Value>
  class Pending {
   public:
    struct Entry {
      std::string id;
      Value value;
      TimePoint at;
    };

    Pending(size_t capacity, std::chrono::nanoseconds ttl) : capacity_(capacity), ttl_(ttl) {}

    bool Contains(std::string_view id) const {
      return live_ != 0 && FindBucket(id, HashOf(id)) != kNotFound;
    }
    size_t size() const { return live_; }
    bool empty() const { return live_ == 0; }

    // Stores the entry unless `id` is pending already: nullopt (and `value` dropped) for a
    // duplicate, otherwise the number of oldest entries evicted to make room (0 or 1).
    std::optional<size_t> TryInsert(std::string_view id, Value value, TimePoint at) {
      const uint64_t hash = HashOf(id);
      if (live_ != 0 && FindBucket(id, hash) != kNotFound) return std::nullopt;
      size_t evicted = 0;
      while (live_ >= capacity_) {
        DropFront();
        ++evicted;
      }
      if (2 * (live_ + 1) > index_.size()) Rehash(std::max<size_t>(16, 2 * index_.size()));
      const uint64_t seq = base_seq_ + slots_.size();
      slots_.push_back(Slot{std::string(id), std::move(value), at, hash, true});
      Place(hash, seq);
      ++live_;
      return evicted;
    }

    // Removes and returns the entry for `id`, if any.
    std::optional<Entry> Take(std::string_view id) {
      if (live_ == 0) return std::nullopt;
      const size_t bucket = FindBucket(id, HashOf(id));
      if (bucket == kNotFound) return std::nullopt;
      Slot& slot = slots_[index_[bucket].seq - base_seq_];
      std::optional<Entry> entry(Entry{std::move(slot.id), std::move(slot.value), slot.at});
      EraseBucket(bucket);
      slot.live = false;
      slot.id = std::string();
      slot.value = Value();
      --live_;
      TrimFront();
      if (slots_.size() > 2 * live_ + 1024) Compact();
      return entry;
    }

    // Visits the entries oldest first as f(id, value, arrival).
    template <typename F>
    void ForEach(F& f) const {
      for (const Slot& slot : slots_) {
        if (slot.live) f(slot.id, slot.value, slot.at);
      }
    }

    size_t Expire(TimePoint now) {
      size_t dropped = 0;
      while (live_ != 0 && now - slots_.front().at >= ttl_) {
        DropFront();
        ++dropped;
      }
      return dropped;
    }

   private:
    struct Slot {
      std::string id;
      Value value;
      TimePoint at;
      uint64_t hash;
      bool live;
    };
    struct Bucket {
      uint64_t hash = 0;
      uint64_t seq = kEmpty;
    };
    static constexpr uint64_t kEmpty = ~uint64_t{0};
    static constexpr size_t kNotFound = ~size_t{0};

    static uint64_t HashOf(std::string_view id) { return std::hash<std::string_view>{}(id); }
    size_t Mask() const { return index_.size() - 1; }

    size_t FindBucket(std::string_view id, uint64_t hash) const {
      for (size_t b = hash & Mask();; b = (b + 1) & Mask()) {
        const Bucket& bucket = index_[b];
        if (bucket.seq == kEmpty) return kNotFound;
        if (bucket.hash == hash && slots_[bucket.seq - base_seq_].id == id) return b;
      }
    }

    void Place(uint64_t hash, uint64_t seq) {
      size_t b = hash & Mask();
      while (index_[b].seq != kEmpty) b = (b + 1) & Mask();
      index_[b] = Bucket{hash, seq};
    }

    // Backward-shift deletion: later buckets of the run move up unless already at or past home.
    void EraseBucket(size_t hole) {
      for (size_t b = (hole + 1) & Mask(); index_[b].seq != kEmpty; b = (b + 1) & Mask()) {
        const size_t home = index_[b].hash & Mask();
        const bool stays = hole <= b ? (hole < home && home <= b) : (hole < home || home <= b);
        if (!stays) {
          index_[hole] = index_[b];
          hole = b;
        }
      }
      index_[hole] = Bucket{};
    }

    // Precondition: live_ > 0 (so the front slot, after TrimFront, is live).
    void DropFront() {
      const Slot& front = slots_.front();
      size_t b = front.hash & Mask();
      while (index_[b].seq != base_seq_) b = (b + 1) & Mask();
      EraseBucket(b);
      slots_.pop_front();
      ++base_seq_;
      --live_;
      TrimFront();
    }

    void TrimFront() {
      while (!slots_.empty() && !slots_.front().live) {
        slots_.pop_front();
        ++base_seq_;
      }
    }

    void Rehash(size_t buckets) {
      index_.assign(buckets, Bucket{});
      for (size_t i = 0; i < slots_.size(); ++i) {
        if (slots_[i].live) Place(slots_[i].hash, base_seq_ + i);
      }
    }

    // Drops the holes; sequence numbers restart after the last one used.
    void Compact() {
      std::deque<Slot> live;
      for (Slot& slot : slots_) {
        if (slot.live) live.push_back(std::move(slot));
      }
      base_seq_ += slots_.size();
      slots_ = std::move(live);
      Rehash(index_.size());
    }

    size_t capacity_;
    std::chrono::nanoseconds ttl_;
    std::deque<Slot> slots_;  // Oldest first; the front slot is live whenever live_ > 0.
    uint64_t base_seq_ = 0;   // Sequence number of slots_.front().
    size_t live_ = 0;
    std::vector<Bucket> index_;  // Size 0 or a power of two.
  };

  // Adds `id` to the recently-joined FIFO. Precondition: it is not in the set.
  void Remember(std::string_view id) {
    if (options_.max_joined_ids == 0) return;
    while (joined_order_.size() >= options_.max_joined_ids) {
      joined_ids_.erase(std::string_view(joined_order_.front()));
      joined_order_.pop_front();
    }
    // deque::push_back and pop_front keep references to the other elements valid, so the views in
    // joined_ids_ stay valid.
    joined_order_.emplace_back(id);
    joined_ids_.insert(std::string_view(joined_order_.back()));
  }

  Options options_;
  Pending<Prediction> predictions_;
  Pending<Label> labels_;
  std::deque<std::string> joined_order_;
  std::unordered_set<std::string_view> joined_ids_;
};

}  // namespace modelmon::performance

#endif  // MODELMON_PERFORMANCE_JOIN_STORE_H_
