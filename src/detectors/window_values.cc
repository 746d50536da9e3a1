#include "detectors/window_values.h"

#include <algorithm>
#include <iterator>
#include <utility>

namespace modelmon::detectors::internal {

void WindowValues::Insert(double value) {
  ++size_;
  if (chunks_.empty()) {
    chunks_.push_back({value});
    chunk_max_.push_back(value);
    return;
  }
  auto idx = static_cast<size_t>(std::lower_bound(chunk_max_.begin(), chunk_max_.end(), value) -
                                 chunk_max_.begin());
  if (idx == chunks_.size()) --idx;
  std::vector<double>& chunk = chunks_[idx];
  chunk.insert(std::upper_bound(chunk.begin(), chunk.end(), value), value);
  chunk_max_[idx] = chunk.back();
  if (chunk.size() > 2 * kChunk) Split(idx);
}

bool WindowValues::Erase(double value) {
  const auto idx = static_cast<size_t>(
      std::lower_bound(chunk_max_.begin(), chunk_max_.end(), value) - chunk_max_.begin());
  if (idx == chunks_.size()) return false;
  std::vector<double>& chunk = chunks_[idx];
  const auto it = std::lower_bound(chunk.begin(), chunk.end(), value);
  if (it == chunk.end() || *it != value) return false;
  chunk.erase(it);
  --size_;
  const auto pos = static_cast<std::ptrdiff_t>(idx);
  if (chunk.empty()) {
    chunks_.erase(chunks_.begin() + pos);
    chunk_max_.erase(chunk_max_.begin() + pos);
    return true;
  }
  chunk_max_[idx] = chunk.back();
  if (chunk.size() < kChunk / 2 && chunks_.size() > 1) {
    // Merge with a neighbour, then split again if the result is too large.
    const size_t left = idx + 1 < chunks_.size() ? idx : idx - 1;
    std::vector<double>& a = chunks_[left];
    std::vector<double>& b = chunks_[left + 1];
    a.insert(a.end(), b.begin(), b.end());
    chunk_max_[left] = a.back();
    chunks_.erase(chunks_.begin() + static_cast<std::ptrdiff_t>(left) + 1);
    chunk_max_.erase(chunk_max_.begin() + static_cast<std::ptrdiff_t>(left) + 1);
    if (a.size() > 2 * kChunk) {
      Split(left);
    } else {
      Shrink(left);
    }
  } else {
    Shrink(idx);
  }
  return true;
}

void WindowValues::AssignSorted(std::vector<double> sorted) {
  chunks_.clear();
  chunk_max_.clear();
  size_ = sorted.size();
  if (sorted.empty()) {
    chunks_.shrink_to_fit();
    chunk_max_.shrink_to_fit();
    return;
  }
  if (sorted.size() <= 2 * kChunk) {
    chunk_max_.push_back(sorted.back());
    chunks_.push_back(std::move(sorted));
    return;
  }
  const size_t num_chunks = (sorted.size() + kChunk - 1) / kChunk;
  chunks_.reserve(num_chunks);
  chunk_max_.reserve(num_chunks);
  for (size_t begin = 0; begin < sorted.size(); begin += kChunk) {
    const size_t end = std::min(sorted.size(), begin + kChunk);
    chunks_.emplace_back(sorted.begin() + static_cast<std::ptrdiff_t>(begin),
                         sorted.begin() + static_cast<std::ptrdiff_t>(end));
    chunk_max_.push_back(chunks_.back().back());
  }
}

void WindowValues::Split(size_t idx) {
  std::vector<double>& chunk = chunks_[idx];
  const auto half = static_cast<std::ptrdiff_t>(chunk.size() / 2);
  std::vector<double> upper(chunk.begin() + half, chunk.end());
  chunk.resize(static_cast<size_t>(half));
  chunk.shrink_to_fit();
  chunk_max_[idx] = chunk.back();
  const double upper_max = upper.back();
  const auto pos = static_cast<std::ptrdiff_t>(idx) + 1;
  chunks_.insert(chunks_.begin() + pos, std::move(upper));
  chunk_max_.insert(chunk_max_.begin() + pos, upper_max);
}

void WindowValues::Shrink(size_t idx) {
  std::vector<double>& chunk = chunks_[idx];
  if (chunk.capacity() > 2 * chunk.size() + 16) chunk.shrink_to_fit();
}

double WindowValues::Kth(size_t k) const {
  for (const std::vector<double>& chunk : chunks_) {
    if (k < chunk.size()) return chunk[k];
    k -= chunk.size();
  }
  return chunk_max_.empty() ? 0.0 : chunk_max_.back();
}

size_t WindowValues::MemoryBytes() const {
  size_t bytes =
      chunks_.capacity() * sizeof(std::vector<double>) + chunk_max_.capacity() * sizeof(double);
  for (const std::vector<double>& chunk : chunks_) bytes += chunk.capacity() * sizeof(double);
  return bytes;
}

}  // namespace modelmon::detectors::internal
