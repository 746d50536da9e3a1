#ifndef MODELMON_STATE_SNAPSHOT_H_
#define MODELMON_STATE_SNAPSHOT_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ingest/schema.h"

// The daemon's state as a snapshot: plain data and the binary format (state/snapshot_file.h reads
// and writes the file).
// Times are ages: nanoseconds before the snapshot's wall time (steady clock times do not survive a
// restart), rebuilt on restore as now - age - (downtime).
//
// File format (every integer little-endian, doubles as their IEEE-754 bits):
//   header:  magic "MMSNAPv\0" (8 bytes) | u32 format version | u64 payload length |
//            u32 CRC-32C of the payload
//   payload: sections, each u32 tag | u64 length | body. Unknown tags are skipped.
//            1 meta (f64 wall time), 2 one model (any number), 3 alerts, 4 counters.
// Strings are u32 length + bytes; lists are u32 count + elements. Every length is checked against
// the bytes that remain before anything is allocated, so a hostile file costs at most its own size
// in memory (plus the bounded expansion of reference counts, see kMaxSampleValues).

namespace modelmon::state {

inline constexpr uint32_t kSnapshotFormatVersion = 1;

// Raw reference sample: per column, (value, count) for numerical columns and (category, count) for
// categorical ones. Plain data.
struct SampleSnapshot {
  uint64_t rows = 0;
  std::vector<std::vector<std::pair<double, int64_t>>> numbers;
  std::vector<std::vector<std::pair<std::string, int64_t>>> categories;
};
// Upper bound on the numerical values a decoded sample expands to (sum of counts, all columns).
inline constexpr uint64_t kMaxSampleValues = uint64_t{1} << 26;

// One column of the prediction window, oldest event first.
struct WindowColumnSnapshot {
  std::vector<double> numbers;     // Numerical columns: NaN when missing.
  std::vector<uint32_t> ids;       // Categorical columns: index into names, kMissingCategory.
  std::vector<std::string> names;  // Categorical dictionary.
  static constexpr uint32_t kMissingCategory = UINT32_MAX;
};

// What a prediction keeps while it waits for its ground truth: in the live join store and in
// snapshots. Plain data.
struct PendingPrediction {
  std::string version;  // The (capped) model_version label value.
  int32_t predicted_class = -1;
  double predicted_value = 0;
  double score = 0;
  std::vector<double> class_scores;
};

// What ground truth keeps while it waits for its prediction. Plain data.
struct PendingLabel {
  int32_t label_class = -1;
  double value = 0;
};

// A pending join entry in a snapshot: its id, its age and what it waits with.
struct PendingPredictionSnapshot {
  std::string id;
  int64_t age_ns = 0;
  PendingPrediction prediction;
};

struct PendingLabelSnapshot {
  std::string id;
  int64_t age_ns = 0;
  PendingLabel label;
};

struct JoinedPairSnapshot {
  int64_t age_ns = 0;
  int32_t label = 0;
  int32_t predicted = 0;
  double score = 0;
  std::vector<double> class_scores;
  double y_true = 0;
  double y_pred = 0;
};

struct ModelSnapshot {
  std::string name;
  uint64_t fingerprint = 0;   // ModelFingerprint() of the schema it was taken with.
  std::string reference_key;  // ReferenceKey() of the config it was taken with.
  // Where the reference in use came from ("file", "upload", "capture", "promote"); empty: none.
  std::string reference_source;
  std::optional<SampleSnapshot> reference;
  std::optional<SampleSnapshot> capture;  // A reference capture in progress.
  std::vector<int64_t> window_ages_ns;    // One per windowed event, oldest first.
  std::vector<WindowColumnSnapshot> window_columns;
  std::vector<std::string> versions;  // model_version label values with their own series.
  std::vector<PendingPredictionSnapshot> pending_predictions;  // Arrival order.
  std::vector<PendingLabelSnapshot> pending_labels;            // Arrival order.
  std::vector<std::string> joined_ids;                         // Oldest first.
  // Joined pairs per performance window ("__all__" and versions), oldest first.
  std::vector<std::pair<std::string, std::vector<JoinedPairSnapshot>>> performance;
  std::map<std::string, double> baseline;  // Learned from the first full window.
};

struct AlertSnapshot {
  std::string rule;
  uint64_t rule_fingerprint = 0;
  std::map<std::string, std::string> labels;
  bool firing = false;  // Otherwise pending.
  int64_t active_age_ns = 0;
  std::optional<int64_t> fired_age_ns;
  double last_value = 0;
};

struct CounterSnapshot {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct Snapshot {
  double wall_time = 0;  // Unix seconds when it was taken.
  std::vector<ModelSnapshot> models;
  std::vector<AlertSnapshot> alerts;
  std::vector<CounterSnapshot> counters;
};

// A fingerprint (FNV-1a 64) of what a model's snapshot depends on: task, classes, positive class,
// columns (names and types, in order), window size, psi_bins and max_categories. A snapshot of a
// model whose fingerprint changed is not restored.
uint64_t ModelFingerprint(const ingest::ModelSchema& schema);
// The configured reference ("file:PATH", "capture:N"); a snapshot's reference is restored only
// while this is unchanged.
std::string ReferenceKey(const ModelConfig& config);

std::string EncodeSnapshot(const Snapshot& snapshot);

// Why a snapshot could not be decoded; the reason label of
// modelmon_snapshot_restore_failures_total.
// kCorrupt: the structure does not parse; kInvalid: it parses, but a value fails
// ValidateSnapshot() or ValidateModelSnapshot() (state/snapshot_validation.h).
enum class DecodeError { kNone, kTruncated, kMagic, kVersion, kChecksum, kCorrupt, kInvalid };
const char* DecodeErrorName(DecodeError error);  // "truncated", "magic", "version", ...

struct DecodeResult {
  std::optional<Snapshot> snapshot;
  DecodeError error = DecodeError::kNone;
  std::string message;  // What was wrong, for the log.
};
// Decodes and checks the file, ValidateSnapshot() included (not the per-model checks, which need
// the configuration). Never throws on any input; allocates at most O(bytes.size()) plus bounded
// sample expansion.
DecodeResult DecodeSnapshot(std::string_view bytes);

}  // namespace modelmon::state

#endif  // MODELMON_STATE_SNAPSHOT_H_
