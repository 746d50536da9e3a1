#ifndef MODELMON_STATE_DRIFT_COLUMNS_H_
#define MODELMON_STATE_DRIFT_COLUMNS_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "detectors/drift.h"
#include "ingest/event.h"
#include "ingest/schema.h"
#include "state/reference_data.h"

namespace modelmon::state {

using detectors::WindowStats;

// Per-column data-quality flags of one added event.
enum QualityFlag : uint8_t { kMissing = 1, kOutOfRange = 2, kUnseenCategory = 4 };

// The sliding window of one model's prediction events, stored column by column in ring buffers, and
// each column's drift state against the reference. Events leave oldest first, when the window is
// full or older than its duration (by arrival time). Categorical values are interned per column in
// a bounded dictionary (4 x max_categories + 1024 names; further names share one overflow entry,
// which counts as unseen and falls in "__other__"), so a reference change can re-bucket the window.
//
// Drift states lag behind the window: Add() and expiry only write the ring buffers and the
// data-quality counts (O(columns) per event, plus a dictionary lookup per category), and Sync()
// brings every column's drift state up to date before it is read. Sync() applies the few changes
// since the last one value by value (O(log R + log W) each, R = distinct reference values), or,
// once more than max(64, window size / 8) events entered or left, rebuilds each state from the ring
// (O(W log W + R) per column), so the cost per ingested value does not grow with the traffic
// between two evaluations. Memory: window size x columns x 8 bytes, the detectors' own state, and
// at most window size / 8 evicted values per column awaiting Sync(). Not thread-safe; the owner
// serialises access.
class DriftColumns {
 public:
  explicit DriftColumns(const ingest::ModelSchema& schema);
  ~DriftColumns();
  DriftColumns(DriftColumns&&) noexcept;
  DriftColumns& operator=(DriftColumns&&) noexcept;

  // Adds one event (its columns follow the schema's column order); evicts the oldest when full.
  // flags (resized to the column count) receives the QualityFlag bits of each column, and bins the
  // reference bin of each column's value (kNoBin when missing or without a reference).
  void Add(const ingest::PredictionEvent& event, std::chrono::steady_clock::time_point arrival,
           std::vector<uint8_t>* flags, std::vector<uint32_t>* bins);
  static constexpr uint32_t kNoBin = UINT32_MAX;
  // Reference bins of column c: names ("0".."B-1" for numerical PSI bins, category names and
  // "__other__" for categorical) and reference shares. Empty without a reference.
  std::vector<std::string> BinNames(size_t c) const;
  std::vector<double> ReferenceShares(size_t c) const;
  // Removes events that arrived before `cutoff`.
  void ExpireBefore(std::chrono::steady_clock::time_point cutoff);
  // Brings every column's drift state up to date with the window (see the class comment).
  void Sync();
  bool synced() const { return synced_ == size_ && !rebuild_ && evicted_ == 0; }

  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }

  // Builds the column references (sorted values, bins, top categories) once, resolves each column's
  // tests ("auto" by reference size) and replays the window into fresh drift states.
  void SetReference(ReferenceData& data);
  bool has_reference() const { return has_reference_; }
  // The window's contents as a reference sample (for promotion).
  ReferenceData WindowAsReference() const;

  size_t num_columns() const { return num_columns_; }
  // Window values of column c that were present / missing / out of the reference range / unseen.
  size_t present(size_t c) const;
  size_t missing(size_t c) const;
  size_t out_of_range(size_t c) const;
  size_t unseen(size_t c) const;
  size_t reference_size(size_t c) const;
  // Tests resolved for column c (empty without a reference).
  const std::vector<detectors::DriftTest>& tests(size_t c) const;
  // Evaluate, PrepareKs and Summary read the drift states: precondition synced().
  // Precondition: has_reference(), present(c) > 0, reference_size(c) > 0.
  detectors::DriftOutcome Evaluate(size_t c, detectors::DriftTest test) const;
  // The O(R) part of a KS test of numerical column c; detectors::FinishKs() completes it.
  detectors::PendingKs PrepareKs(size_t c) const;
  std::optional<WindowStats> Summary(size_t c) const;

  // Snapshot support, apart from the hot path. The window as raw values, oldest event first:
  // arrival times and, per column, numbers (NaN when missing) or dictionary ids (UINT32_MAX when
  // missing) with the dictionary's names. O(window size x columns + dictionary).
  struct WindowExport {
    std::vector<std::chrono::steady_clock::time_point> arrivals;
    struct ColumnValues {
      std::vector<double> numbers;
      std::vector<uint32_t> ids;
      std::vector<std::string> names;
    };
    std::vector<ColumnValues> columns;
  };
  WindowExport ExportWindow() const;
  // The numerical reference of column c; null for categorical columns or without a reference.
  const detectors::NumericalReference* numerical_reference(size_t c) const;

 private:
  struct Column;
  void Apply(size_t c, size_t slot, bool add, uint8_t* flags);
  uint32_t Intern(Column& col, const std::string& category);
  // Appends the reference bucket and "known" flag of dictionary entry `id` (the next one).
  static void MapToReference(Column& col, uint32_t id);
  void RemoveOldest();
  // Switches to a rebuild at the next Sync() once incremental catch-up would cost more.
  void NoteChange();

  const ingest::ModelSchema* schema_;
  size_t capacity_;
  size_t head_ = 0;  // Slot of the oldest event.
  size_t size_ = 0;
  size_t incremental_limit_;
  // The oldest synced_ events of the window are reflected in the drift states; the newer ones and
  // the evicted_ events recorded in each column are not (unless rebuild_, which ignores both).
  size_t synced_ = 0;
  size_t evicted_ = 0;
  bool rebuild_ = false;
  bool has_reference_ = false;
  std::vector<std::chrono::steady_clock::time_point> arrival_;
  size_t num_columns_ = 0;
  std::vector<Column> columns_;
};

}  // namespace modelmon::state

#endif  // MODELMON_STATE_DRIFT_COLUMNS_H_
