#include "performance/rank_auc.h"

#include <stdexcept>

namespace modelmon::performance {

ScoreRankTree::Ranks ScoreRankTree::Query(double score) const {
  Ranks r;
  int32_t t = root_;
  while (t >= 0) {
    const Node& n = At(t);
    if (score < n.score) {
      t = n.left;
    } else {
      const int64_t left_pos = n.left >= 0 ? At(n.left).subtree_positives : 0;
      const int64_t left_neg = n.left >= 0 ? At(n.left).subtree_negatives : 0;
      r.positives_below += left_pos;
      r.negatives_below += left_neg;
      if (n.score < score) {
        r.positives_below += n.positives;
        r.negatives_below += n.negatives;
        t = n.right;
      } else {
        r.positives_equal = n.positives;
        r.negatives_equal = n.negatives;
        break;
      }
    }
  }
  return r;
}

void ScoreRankTree::Update(double score, int64_t delta_positive, int64_t delta_negative) {
  root_ = UpdateAt(root_, score, delta_positive, delta_negative);
}

int64_t ScoreRankTree::positives() const { return root_ >= 0 ? At(root_).subtree_positives : 0; }
int64_t ScoreRankTree::negatives() const { return root_ >= 0 ? At(root_).subtree_negatives : 0; }

void ScoreRankTree::Pull(int32_t t) {
  Node& n = At(t);
  n.subtree_positives = n.positives;
  n.subtree_negatives = n.negatives;
  if (n.left >= 0) {
    n.subtree_positives += At(n.left).subtree_positives;
    n.subtree_negatives += At(n.left).subtree_negatives;
  }
  if (n.right >= 0) {
    n.subtree_positives += At(n.right).subtree_positives;
    n.subtree_negatives += At(n.right).subtree_negatives;
  }
}

int32_t ScoreRankTree::RotateRight(int32_t t) {
  const int32_t l = At(t).left;
  At(t).left = At(l).right;
  At(l).right = t;
  Pull(t);
  Pull(l);
  return l;
}

int32_t ScoreRankTree::RotateLeft(int32_t t) {
  const int32_t r = At(t).right;
  At(t).right = At(r).left;
  At(r).left = t;
  Pull(t);
  Pull(r);
  return r;
}

int32_t ScoreRankTree::NewNode(double score, int64_t pos, int64_t neg) {
  // xorshift64*: a fixed-seed generator keeps tree shapes reproducible.
  rng_ ^= rng_ >> 12;
  rng_ ^= rng_ << 25;
  rng_ ^= rng_ >> 27;
  const uint64_t priority = rng_ * 0x2545F4914F6CDD1Dull;
  const Node node{score, pos, neg, pos, neg, priority, -1, -1};
  if (!free_.empty()) {
    const int32_t t = free_.back();
    free_.pop_back();
    At(t) = node;
    return t;
  }
  if (nodes_.size() >= static_cast<size_t>(INT32_MAX)) throw std::length_error("score tree full");
  nodes_.push_back(node);
  return static_cast<int32_t>(nodes_.size() - 1);
}

int32_t ScoreRankTree::Merge(int32_t a, int32_t b) {
  if (a < 0) return b;
  if (b < 0) return a;
  if (At(a).priority > At(b).priority) {
    const int32_t right = Merge(At(a).right, b);
    At(a).right = right;
    Pull(a);
    return a;
  }
  const int32_t left = Merge(a, At(b).left);
  At(b).left = left;
  Pull(b);
  return b;
}

int32_t ScoreRankTree::UpdateAt(int32_t t, double score, int64_t dpos, int64_t dneg) {
  if (t < 0) return NewNode(score, dpos, dneg);
  if (score < At(t).score) {
    const int32_t child = UpdateAt(At(t).left, score, dpos, dneg);
    At(t).left = child;
    if (child >= 0 && At(child).priority > At(t).priority) return RotateRight(t);
  } else if (At(t).score < score) {
    const int32_t child = UpdateAt(At(t).right, score, dpos, dneg);
    At(t).right = child;
    if (child >= 0 && At(child).priority > At(t).priority) return RotateLeft(t);
  } else {
    Node& n = At(t);
    n.positives += dpos;
    n.negatives += dneg;
    if (n.positives == 0 && n.negatives == 0) {
      const int32_t merged = Merge(n.left, n.right);
      free_.push_back(t);
      return merged;
    }
  }
  Pull(t);
  return t;
}

int64_t RankAuc::Contribution(double score, bool positive) const {
  const ScoreRankTree::Ranks r = tree_.Query(score);
  if (positive) return 2 * r.negatives_below + r.negatives_equal;
  const int64_t positives_above = tree_.positives() - r.positives_below - r.positives_equal;
  return 2 * positives_above + r.positives_equal;
}

void RankAuc::Add(double score, bool positive) {
  twice_u_ += Contribution(score, positive);
  tree_.Update(score, positive ? 1 : 0, positive ? 0 : 1);
}

void RankAuc::Remove(double score, bool positive) {
  tree_.Update(score, positive ? -1 : 0, positive ? 0 : -1);
  twice_u_ -= Contribution(score, positive);
}

std::optional<double> RankAuc::Auc() const {
  const int64_t p = positives();
  const int64_t n = negatives();
  if (p == 0 || n == 0) return std::nullopt;
  return static_cast<double>(twice_u_) / (2.0 * static_cast<double>(p) * static_cast<double>(n));
}

}  // namespace modelmon::performance
