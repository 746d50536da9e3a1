#include "performance/join_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace modelmon::performance {
namespace {

using std::chrono::seconds;
using Store = JoinStore<int, std::string>;
using Outcome = Store::Outcome;
using TimePoint = Store::TimePoint;

const TimePoint kT0{};  // the fake clock: plain time points advanced by hand

std::string Name(const char* prefix, int64_t i) {
  std::string name(prefix);
  name.append(std::to_string(i));
  return name;
}

Store::Options SmallOptions() {
  Store::Options o;
  o.max_predictions = 3;
  o.prediction_ttl = seconds(10);
  o.max_labels = 2;
  o.label_ttl = seconds(5);
  o.max_joined_ids = 2;
  return o;
}

TEST(JoinStoreTest, PredictionThenLabelJoins) {
  Store store(Store::Options{});
  Store::Result r = store.AddPrediction("a", 7, kT0);
  EXPECT_EQ(r.outcome, Outcome::kStored);
  EXPECT_FALSE(r.joined.has_value());
  EXPECT_EQ(r.evicted, 0u);
  EXPECT_EQ(store.pending_predictions(), 1u);
  r = store.AddLabel("a", "yes", kT0 + seconds(30));
  ASSERT_EQ(r.outcome, Outcome::kJoined);
  ASSERT_TRUE(r.joined.has_value());
  EXPECT_EQ(r.joined->prediction, 7);
  EXPECT_EQ(r.joined->label, "yes");
  EXPECT_EQ(r.joined->prediction_at, kT0);
  EXPECT_EQ(r.joined->label_at, kT0 + seconds(30));
  EXPECT_EQ(store.pending_predictions(), 0u);
  EXPECT_EQ(store.pending_labels(), 0u);
  EXPECT_EQ(store.remembered_joined_ids(), 1u);
}

TEST(JoinStoreTest, LabelBeforePredictionJoins) {
  Store store(Store::Options{});
  EXPECT_EQ(store.AddLabel("a", "no", kT0).outcome, Outcome::kStored);
  EXPECT_EQ(store.pending_labels(), 1u);
  const Store::Result r = store.AddPrediction("a", 3, kT0 + seconds(2));
  ASSERT_EQ(r.outcome, Outcome::kJoined);
  EXPECT_EQ(r.joined->prediction, 3);
  EXPECT_EQ(r.joined->label, "no");
  EXPECT_EQ(r.joined->prediction_at, kT0 + seconds(2));
  EXPECT_EQ(r.joined->label_at, kT0);
  EXPECT_EQ(store.pending_labels(), 0u);
}

TEST(JoinStoreTest, OutOfOrderArrivalJoinsEveryIdOnce) {
  Store store(Store::Options{});
  constexpr int kIds = 1000;
  // Labels for even ids arrive first; predictions arrive in one order, labels in another.
  for (int i = 0; i < kIds; i += 2) {
    EXPECT_EQ(store.AddLabel(std::to_string(i), Name("L", i), kT0).outcome, Outcome::kStored);
  }
  std::vector<bool> joined(kIds, false);
  for (int k = 0; k < kIds; ++k) {
    const int i = (k * 379) % kIds;  // a permutation (379 is coprime with 1000)
    const Store::Result r = store.AddPrediction(std::to_string(i), i, kT0 + seconds(1));
    if (i % 2 == 0) {
      ASSERT_EQ(r.outcome, Outcome::kJoined);
      EXPECT_EQ(r.joined->label, Name("L", i));
      joined[static_cast<size_t>(i)] = true;
    } else {
      EXPECT_EQ(r.outcome, Outcome::kStored);
    }
  }
  for (int i = kIds - 1; i >= 1; i -= 2) {
    const Store::Result r = store.AddLabel(std::to_string(i), "L", kT0 + seconds(2));
    ASSERT_EQ(r.outcome, Outcome::kJoined);
    EXPECT_EQ(r.joined->prediction, i);
    joined[static_cast<size_t>(i)] = true;
  }
  EXPECT_TRUE(std::all_of(joined.begin(), joined.end(), [](bool b) { return b; }));
  EXPECT_EQ(store.pending_predictions(), 0u);
  EXPECT_EQ(store.pending_labels(), 0u);
}

TEST(JoinStoreTest, FirstPredictionWins) {
  Store store(Store::Options{});
  EXPECT_EQ(store.AddPrediction("a", 1, kT0).outcome, Outcome::kStored);
  EXPECT_EQ(store.AddPrediction("a", 2, kT0 + seconds(1)).outcome, Outcome::kDuplicate);
  EXPECT_EQ(store.pending_predictions(), 1u);
  const Store::Result r = store.AddLabel("a", "x", kT0 + seconds(2));
  ASSERT_EQ(r.outcome, Outcome::kJoined);
  EXPECT_EQ(r.joined->prediction, 1);
  EXPECT_EQ(r.joined->prediction_at, kT0);
  // A prediction for a recently joined id is a duplicate and is not stored.
  EXPECT_EQ(store.AddPrediction("a", 3, kT0 + seconds(3)).outcome, Outcome::kDuplicate);
  EXPECT_EQ(store.pending_predictions(), 0u);
}

TEST(JoinStoreTest, FirstLabelWins) {
  Store store(Store::Options{});
  EXPECT_EQ(store.AddLabel("a", "first", kT0).outcome, Outcome::kStored);
  EXPECT_EQ(store.AddLabel("a", "second", kT0 + seconds(1)).outcome, Outcome::kDuplicate);
  EXPECT_EQ(store.pending_labels(), 1u);
  const Store::Result r = store.AddPrediction("a", 1, kT0 + seconds(2));
  ASSERT_EQ(r.outcome, Outcome::kJoined);
  EXPECT_EQ(r.joined->label, "first");
  EXPECT_EQ(r.joined->label_at, kT0);
  // A label for a recently joined id is a duplicate and is not stored.
  EXPECT_EQ(store.AddLabel("a", "late", kT0 + seconds(3)).outcome, Outcome::kDuplicate);
  EXPECT_EQ(store.pending_labels(), 0u);
}

TEST(JoinStoreTest, RecentlyJoinedIdsAreABoundedFifo) {
  Store store(SmallOptions());  // max_joined_ids = 2
  for (const char* id : {"a", "b", "c"}) {
    store.AddPrediction(id, 0, kT0);
    ASSERT_EQ(store.AddLabel(id, "x", kT0).outcome, Outcome::kJoined);
    EXPECT_LE(store.remembered_joined_ids(), 2u);
  }
  // "a" was forgotten (oldest); "b" and "c" are still remembered.
  EXPECT_EQ(store.AddPrediction("b", 1, kT0).outcome, Outcome::kDuplicate);
  EXPECT_EQ(store.AddLabel("c", "y", kT0).outcome, Outcome::kDuplicate);
  EXPECT_EQ(store.AddPrediction("a", 1, kT0).outcome, Outcome::kStored);
  EXPECT_EQ(store.AddLabel("a", "y", kT0).outcome, Outcome::kJoined);
  // Joining "a" again forgot "b".
  EXPECT_EQ(store.AddPrediction("b", 1, kT0).outcome, Outcome::kStored);
  EXPECT_EQ(store.AddPrediction("c", 1, kT0).outcome, Outcome::kDuplicate);
}

TEST(JoinStoreTest, ZeroJoinedIdsRemembersNothing) {
  Store::Options o = SmallOptions();
  o.max_joined_ids = 0;
  Store store(o);
  store.AddPrediction("a", 1, kT0);
  ASSERT_EQ(store.AddLabel("a", "x", kT0).outcome, Outcome::kJoined);
  EXPECT_EQ(store.remembered_joined_ids(), 0u);
  EXPECT_EQ(store.AddLabel("a", "x", kT0).outcome, Outcome::kStored);
}

TEST(JoinStoreTest, ExpiresBothKindsAtTheirTtl) {
  Store store(SmallOptions());  // prediction ttl 10 s, label ttl 5 s
  store.AddPrediction("p1", 1, kT0);
  store.AddLabel("l1", "x", kT0 + seconds(1));
  store.AddPrediction("p2", 2, kT0 + seconds(3));
  store.AddLabel("l2", "y", kT0 + seconds(4));
  Store::Expired e = store.Expire(kT0 + seconds(5));
  EXPECT_EQ(e.predictions, 0u);
  EXPECT_EQ(e.labels, 0u);
  e = store.Expire(kT0 + seconds(6));  // l1: 1 + 5 <= 6
  EXPECT_EQ(e.predictions, 0u);
  EXPECT_EQ(e.labels, 1u);
  EXPECT_EQ(store.pending_labels(), 1u);
  e = store.Expire(kT0 + seconds(10));  // p1: 0 + 10 <= 10; l2: 4 + 5 <= 10
  EXPECT_EQ(e.predictions, 1u);
  EXPECT_EQ(e.labels, 1u);
  EXPECT_EQ(store.pending_predictions(), 1u);
  EXPECT_EQ(store.pending_labels(), 0u);
  // Expired entries no longer join: the late label for p1 is stored, p2 still joins.
  EXPECT_EQ(store.AddLabel("p1", "late", kT0 + seconds(11)).outcome, Outcome::kStored);
  const Store::Result r = store.AddLabel("p2", "ok", kT0 + seconds(12));
  ASSERT_EQ(r.outcome, Outcome::kJoined);
  EXPECT_EQ(r.joined->prediction, 2);
  e = store.Expire(kT0 + seconds(1000));
  EXPECT_EQ(e.predictions, 0u);
  EXPECT_EQ(e.labels, 1u);
  EXPECT_EQ(store.pending_labels(), 0u);
}

TEST(JoinStoreTest, EvictsOldestWhenFull) {
  Store store(SmallOptions());  // 3 predictions, 2 labels
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(store.AddPrediction(Name("p", i), i, kT0 + seconds(i)).evicted, 0u);
  }
  Store::Result r = store.AddPrediction("p3", 3, kT0 + seconds(3));
  EXPECT_EQ(r.outcome, Outcome::kStored);
  EXPECT_EQ(r.evicted, 1u);
  EXPECT_EQ(store.pending_predictions(), 3u);
  EXPECT_EQ(store.AddLabel("l0", "a", kT0).evicted, 0u);
  EXPECT_EQ(store.AddLabel("l1", "b", kT0).evicted, 0u);
  r = store.AddLabel("l2", "c", kT0);
  EXPECT_EQ(r.outcome, Outcome::kStored);
  EXPECT_EQ(r.evicted, 1u);
  EXPECT_EQ(store.pending_labels(), 2u);
  // p0 and l0 were evicted; p1 and l1 remain.
  EXPECT_EQ(store.AddLabel("p1", "x", kT0).outcome, Outcome::kJoined);
  EXPECT_EQ(store.AddPrediction("l1", 9, kT0).outcome, Outcome::kJoined);
  EXPECT_EQ(store.AddPrediction("l0", 9, kT0).outcome, Outcome::kStored);
  EXPECT_EQ(store.pending_labels(), 1u);  // l2
  // Storing "l0" filled the predictions back up (p2, p3, l0); "p0" is pending nowhere.
  r = store.AddLabel("p0", "x", kT0);
  EXPECT_EQ(r.outcome, Outcome::kStored);
  EXPECT_EQ(r.evicted, 0u);
}

TEST(JoinStoreTest, MoveOnlyValues) {
  JoinStore<std::unique_ptr<int>, std::unique_ptr<std::string>> store({});
  store.AddLabel("a", std::make_unique<std::string>("x"), kT0);
  auto r = store.AddPrediction("a", std::make_unique<int>(4), kT0);
  ASSERT_EQ(r.outcome, decltype(store)::Outcome::kJoined);
  EXPECT_EQ(*r.joined->prediction, 4);
  EXPECT_EQ(*r.joined->label, "x");
}

// A naive reference model (linear scans over vectors) of the documented semantics.
class ReferenceModel {
 public:
  explicit ReferenceModel(Store::Options o) : o_(o) {}
  Outcome Add(bool prediction, const std::string& id, TimePoint now) {
    std::vector<Item>& mine = prediction ? predictions_ : labels_;
    std::vector<Item>& other = prediction ? labels_ : predictions_;
    if (Find(other, id) != other.end()) {
      other.erase(Find(other, id));
      joined_.push_back(id);
      if (joined_.size() > o_.max_joined_ids) joined_.erase(joined_.begin());
      return Outcome::kJoined;
    }
    if (std::find(joined_.begin(), joined_.end(), id) != joined_.end() ||
        Find(mine, id) != mine.end()) {
      return Outcome::kDuplicate;
    }
    if (mine.size() == (prediction ? o_.max_predictions : o_.max_labels)) mine.erase(mine.begin());
    mine.push_back({id, now});
    return Outcome::kStored;
  }
  void Expire(TimePoint now) {
    std::erase_if(predictions_, [&](const Item& i) { return i.at + o_.prediction_ttl <= now; });
    std::erase_if(labels_, [&](const Item& i) { return i.at + o_.label_ttl <= now; });
  }
  size_t predictions() const { return predictions_.size(); }
  size_t labels() const { return labels_.size(); }

 private:
  struct Item {
    std::string id;
    TimePoint at;
  };
  static std::vector<Item>::iterator Find(std::vector<Item>& v, const std::string& id) {
    return std::find_if(v.begin(), v.end(), [&](const Item& i) { return i.id == id; });
  }
  Store::Options o_;
  std::vector<Item> predictions_, labels_;
  std::vector<std::string> joined_;
};

// A deterministic pseudo-random stream of arrivals, duplicates and expiries, checked step by step
// against the reference model; pending counts never exceed their bounds.
TEST(JoinStoreTest, MatchesReferenceModelAndStaysBounded) {
  Store::Options o;
  o.max_predictions = 40;
  o.prediction_ttl = seconds(300);
  o.max_labels = 15;
  o.label_ttl = seconds(60);
  o.max_joined_ids = 25;
  Store store(o);
  ReferenceModel model(o);
  uint64_t state = 0x9e3779b97f4a7c15u;
  auto next = [&state](uint64_t bound) {
    state = state * 6364136223846793005u + 1442695040888963407u;
    return (state >> 33) % bound;
  };
  TimePoint now = kT0;
  size_t counts[3] = {0, 0, 0};
  for (int step = 0; step < 20000; ++step) {
    now += seconds(static_cast<int64_t>(next(4)));
    const std::string id = "id" + std::to_string(next(120));
    const bool prediction = next(2) == 0;
    const Store::Result r = prediction ? store.AddPrediction(id, step, now)
                                       : store.AddLabel(id, std::to_string(step), now);
    ASSERT_EQ(r.outcome, model.Add(prediction, id, now)) << "step " << step;
    ASSERT_EQ(r.joined.has_value(), r.outcome == Outcome::kJoined);
    ++counts[static_cast<int>(r.outcome)];
    if (next(10) == 0) {
      store.Expire(now);
      model.Expire(now);
    }
    ASSERT_EQ(store.pending_predictions(), model.predictions());
    ASSERT_EQ(store.pending_labels(), model.labels());
    ASSERT_LE(store.pending_predictions(), o.max_predictions);
    ASSERT_LE(store.pending_labels(), o.max_labels);
    ASSERT_LE(store.remembered_joined_ids(), o.max_joined_ids);
  }
  // Every outcome was exercised many times.
  for (size_t c : counts) EXPECT_GT(c, 1000u);
}

// Each prediction is labelled one step later, except 1% that never are: joins leave holes behind
// the oldest pending entries, so the store compacts many times along the way.
TEST(JoinStoreTest, MatchesReferenceModelThroughCompactions) {
  Store::Options o;
  o.max_predictions = 5000;
  o.prediction_ttl = seconds(1000000);
  o.max_labels = 5000;
  o.label_ttl = seconds(1000000);
  o.max_joined_ids = 300;
  Store store(o);
  ReferenceModel model(o);
  uint64_t state = 0x2545f4914f6cdd1du;
  auto next = [&state](uint64_t bound) {
    state = state * 6364136223846793005u + 1442695040888963407u;
    return (state >> 33) % bound;
  };
  TimePoint now = kT0;
  size_t joined = 0;
  auto add = [&](bool prediction, const std::string& id, int64_t step) {
    const Store::Result r = prediction ? store.AddPrediction(id, static_cast<int>(step), now)
                                       : store.AddLabel(id, "l", now);
    ASSERT_EQ(r.outcome, model.Add(prediction, id, now)) << "step " << step;
    joined += r.outcome == Outcome::kJoined ? 1 : 0;
    ASSERT_EQ(store.pending_predictions(), model.predictions()) << "step " << step;
    ASSERT_EQ(store.pending_labels(), model.labels()) << "step " << step;
  };
  for (int64_t step = 0; step < 60000; ++step) {
    now += seconds(1);
    add(true, Name(next(100) == 0 ? "stuck" : "id", step), step);
    if (step > 0) add(false, Name("id", step - 1), step);
    if (next(10) == 0) add(next(2) == 0, Name("id", step - static_cast<int64_t>(next(20))), step);
  }
  // Far more joins (holes) than the 1024 + 2 x pending that trigger a compaction.
  EXPECT_GT(joined, 50000u);
  EXPECT_GT(store.pending_predictions(), 400u);  // The stuck ones, oldest first.
}

}  // namespace
}  // namespace modelmon::performance
