#ifndef MODELMON_PERFORMANCE_JOIN_STORE_H_
#define MODELMON_PERFORMANCE_JOIN_STORE_H_

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <deque>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

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
// (each holding its id string plus hash-table and list overhead), whatever the input.
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
    if (joined_ids_.count(id) != 0 || predictions_.Contains(id))
      return {Outcome::kDuplicate, std::nullopt, 0};
    if (auto label = labels_.Take(id)) {
      Remember(id);
      return {Outcome::kJoined, Joined{std::move(p), std::move(label->value), now, label->at}, 0};
    }
    return {Outcome::kStored, std::nullopt, predictions_.Insert(id, std::move(p), now)};
  }

  // Takes ownership of `l` when stored or joined; drops it on kDuplicate.
  Result AddLabel(std::string_view id, Label l, TimePoint now) {
    if (auto prediction = predictions_.Take(id)) {
      Remember(id);
      return {Outcome::kJoined,
              Joined{std::move(prediction->value), std::move(l), prediction->at, now}, 0};
    }
    if (joined_ids_.count(id) != 0 || labels_.Contains(id))
      return {Outcome::kDuplicate, std::nullopt, 0};
    return {Outcome::kStored, std::nullopt, labels_.Insert(id, std::move(l), now)};
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
  // Pending entries of one kind: a list in arrival order (oldest first) plus an index by id. The
  // index keys view the ids stored in the list nodes, which never move.
  template <typename Value>
  class Pending {
   public:
    struct Entry {
      std::string id;
      Value value;
      TimePoint at;
    };

    Pending(size_t capacity, std::chrono::nanoseconds ttl) : capacity_(capacity), ttl_(ttl) {}

    bool Contains(std::string_view id) const { return index_.count(id) != 0; }
    size_t size() const { return index_.size(); }

    // Precondition: !Contains(id). Returns the number of entries evicted to make room (0 or 1).
    size_t Insert(std::string_view id, Value value, TimePoint at) {
      size_t evicted = 0;
      while (order_.size() >= capacity_) {
        PopFront();
        ++evicted;
      }
      order_.push_back(Entry{std::string(id), std::move(value), at});
      index_.emplace(order_.back().id, std::prev(order_.end()));
      return evicted;
    }

    // Removes and returns the entry for `id`, if any.
    std::optional<Entry> Take(std::string_view id) {
      const auto found = index_.find(id);
      if (found == index_.end()) return std::nullopt;
      const auto node = found->second;
      index_.erase(found);
      std::optional<Entry> entry(std::move(*node));
      order_.erase(node);
      return entry;
    }

    template <typename F>
    void ForEach(F& f) const {
      for (const Entry& e : order_) f(e.id, e.value, e.at);
    }

    size_t Expire(TimePoint now) {
      size_t dropped = 0;
      while (!order_.empty() && now - order_.front().at >= ttl_) {
        PopFront();
        ++dropped;
      }
      return dropped;
    }

   private:
    void PopFront() {
      index_.erase(std::string_view(order_.front().id));
      order_.pop_front();
    }

    size_t capacity_;
    std::chrono::nanoseconds ttl_;
    std::list<Entry> order_;
    std::unordered_map<std::string_view, typename std::list<Entry>::iterator> index_;
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
