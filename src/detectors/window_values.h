#ifndef MODELMON_DETECTORS_WINDOW_VALUES_H_
#define MODELMON_DETECTORS_WINDOW_VALUES_H_

#include <cstddef>
#include <vector>

namespace modelmon::detectors::internal {

// Sorted multiset of doubles for a sliding window: a list of sorted chunks of between kChunk / 2
// and 2 kChunk values (the last chunk may be smaller), plus each chunk's maximum for binary search.
// Memory: at most ~16 bytes per value (chunk capacity is kept below twice its size) plus 32 bytes
// per chunk. Precondition for all operations: no NaN. Value type; not thread-safe.
class WindowValues {
 public:
  static constexpr size_t kChunk = 512;

  // O(log(n / kChunk) + kChunk).
  void Insert(double value);
  // Removes one occurrence; returns false (and changes nothing) when the value is absent.
  // O(log(n / kChunk) + kChunk).
  bool Erase(double value);
  // Replaces the contents with `sorted` (ascending, no NaN), cutting it into chunks of kChunk
  // values. O(n).
  void AssignSorted(std::vector<double> sorted);

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // Preconditions: !empty(). O(1).
  double min() const { return chunks_.front().front(); }
  double max() const { return chunk_max_.back(); }
  // The k-th smallest value (0-based). Precondition: k < size(). O(n / kChunk).
  double Kth(size_t k) const;
  // Heap bytes held (capacities), for memory accounting. O(n / kChunk).
  size_t MemoryBytes() const;

  // Forward cursor over the values in ascending order; invalidated by Insert and Erase. Borrows the
  // WindowValues (which must outlive it); not thread-safe.
  class Cursor {
   public:
    explicit Cursor(const WindowValues& values) : values_(&values) {}
    bool valid() const { return chunk_ < values_->chunks_.size(); }
    double value() const { return values_->chunks_[chunk_][pos_]; }
    void Next() {
      if (++pos_ == values_->chunks_[chunk_].size()) {
        ++chunk_;
        pos_ = 0;
      }
    }

   private:
    const WindowValues* values_;
    size_t chunk_ = 0;
    size_t pos_ = 0;
  };

 private:
  void Split(size_t chunk);
  void Shrink(size_t chunk);

  std::vector<std::vector<double>> chunks_;  // Non-empty, sorted, and ordered across chunks.
  std::vector<double> chunk_max_;            // chunk_max_[i] == chunks_[i].back().
  size_t size_ = 0;
};

}  // namespace modelmon::detectors::internal

#endif  // MODELMON_DETECTORS_WINDOW_VALUES_H_
