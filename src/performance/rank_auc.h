#ifndef MODELMON_PERFORMANCE_RANK_AUC_H_
#define MODELMON_PERFORMANCE_RANK_AUC_H_

#include <cstdint>
#include <optional>
#include <vector>

namespace modelmon::performance {

// A multiset of scores, each tagged positive or negative, answering "how many positives /
// negatives score below s, and how many exactly s" in O(log W). Implemented as a treap over the
// distinct scores (one node per distinct score holding both tag counts and subtree totals), with
// nodes in a vector indexed by int32 and a free list, and priorities from a fixed-seed generator
// so that behaviour is deterministic.
//
// Scores compare with operator<, so -0.0 and 0.0 are the same score. Precondition: no NaN.
// Not thread-safe; callers serialise access. Memory O(distinct scores).
class ScoreRankTree {
 public:
  struct Ranks {
    int64_t positives_below = 0;
    int64_t negatives_below = 0;
    int64_t positives_equal = 0;
    int64_t negatives_equal = 0;
  };

  // Counts for `score`. O(log W) expected.
  Ranks Query(double score) const;
  // Adds delta_positive positives and delta_negative negatives at `score` (negative deltas
  // remove). Precondition: counts at `score` stay non-negative. O(log W) expected.
  void Update(double score, int64_t delta_positive, int64_t delta_negative);
  int64_t positives() const;
  int64_t negatives() const;

 private:
  struct Node {
    double score;
    int64_t positives;
    int64_t negatives;
    int64_t subtree_positives;
    int64_t subtree_negatives;
    uint64_t priority;
    int32_t left;
    int32_t right;
  };
  int32_t UpdateAt(int32_t t, double score, int64_t dpos, int64_t dneg);
  int32_t Merge(int32_t a, int32_t b);
  int32_t NewNode(double score, int64_t pos, int64_t neg);
  void Pull(int32_t t);
  int32_t RotateRight(int32_t t);
  int32_t RotateLeft(int32_t t);
  Node& At(int32_t t) { return nodes_[static_cast<size_t>(t)]; }
  const Node& At(int32_t t) const { return nodes_[static_cast<size_t>(t)]; }

  std::vector<Node> nodes_;
  std::vector<int32_t> free_;
  int32_t root_ = -1;
  uint64_t rng_ = 0x9E3779B97F4A7C15ull;
};

// Exact ROC AUC of a changing set of (score, is_positive) pairs through the Mann-Whitney
// statistic: 2U = sum over positive/negative pairs of 2 when the positive scores higher and 1 on
// a tie, kept as an integer and updated on every Add/Remove, so the AUC equals sklearn's
// roc_auc_score up to the final division. Exact while 2 * P * N < 2^63.
// Not thread-safe; callers serialise access. Add/Remove O(log W) expected; Auc O(1).
class RankAuc {
 public:
  // Precondition: score is not NaN.
  void Add(double score, bool positive);
  // Precondition: the same (score, positive) was added and not yet removed.
  void Remove(double score, bool positive);
  int64_t positives() const { return tree_.positives(); }
  int64_t negatives() const { return tree_.negatives(); }
  int64_t twice_u() const { return twice_u_; }
  // 2U / (2 P N); nullopt when there are no positives or no negatives.
  std::optional<double> Auc() const;

 private:
  int64_t Contribution(double score, bool positive) const;

  ScoreRankTree tree_;
  int64_t twice_u_ = 0;
};

}  // namespace modelmon::performance

#endif  // MODELMON_PERFORMANCE_RANK_AUC_H_
