#ifndef MODELMON_STATE_SNAPSHOT_STORE_H_
#define MODELMON_STATE_SNAPSHOT_STORE_H_

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/thread_annotations.h"
#include "ingest/event_parser.h"
#include "metrics/metrics.h"
#include "modelmon/clock.h"
#include "modelmon/config.h"
#include "state/alerting.h"
#include "state/daemon_metrics.h"
#include "state/model_state.h"

namespace modelmon::state {

// `path` as the configuration means it: a relative path is relative to the directory of the
// configuration file (config.source_path), or to the working directory when the configuration
// did not come from a file. "" stays "".
std::string ResolveConfigPath(const Config& config, const std::string& path);

// What Restore() did, for the caller to log.
struct SnapshotRestoreReport {
  enum class Outcome {
    kOff,         // Snapshots are off.
    kMissing,     // No file: a clean start.
    kUnreadable,  // The file could not be read or is too large (error); counted as reason "io".
    // The path is a FIFO, device, socket or directory (error), counted as reason "io": the daemon
    // must refuse to start, since a write would replace it.
    kNotRegular,
    kCorrupt,  // The file did not decode (reason, error) and was set aside (set_aside).
    kRestored,
  };
  struct SkippedModel {
    std::string name;
    bool config_changed = false;  // Else no longer configured.
  };
  Outcome outcome = Outcome::kOff;
  std::string error;
  std::string reason;     // kCorrupt: DecodeErrorName() ("invalid": content failed validation).
  std::string set_aside;  // kCorrupt: "moved to <path>" or "could not set it aside: <error>".
  std::vector<SkippedModel> skipped;  // kRestored: models that start clean, in snapshot order.
  double wall_time = 0;               // kRestored: when the snapshot was taken (Unix seconds).
  double down_seconds = 0;            // kRestored: how long ago.
  size_t models = 0;
  size_t events = 0;
  size_t alerts = 0;
  size_t counters = 0;
  double elapsed_ms = 0;  // Decoding and importing.
};

// What Write() did, for the caller to log.
struct SnapshotWriteReport {
  bool written = true;
  bool first_failure = false;  // The first failure after a success (or since start).
  bool recovered = false;      // Written after one or more failures.
  std::string error;
  size_t bytes = 0;
  double copy_ms = 0;
  double encode_ms = 0;
  double write_ms = 0;
};

// The state snapshot file at config.state.snapshot_path: restoring it at start, writing it on the
// daemon's interval, and the modelmon_snapshot_* counters. Does nothing when snapshots are off.
// It does not log: it reports what happened and the caller logs.
// Thread-safe: Write() calls are serialised internally and may run concurrently with requests;
// Restore() runs once, before the daemon serves requests. The clock, registry and metrics must
// outlive the store.
class SnapshotStore {
 public:
  SnapshotStore(const Config& config, const Clock* clock, metrics::Registry* registry,
                DaemonMetrics* metrics);

  SnapshotStore(const SnapshotStore&) = delete;
  SnapshotStore& operator=(const SnapshotStore&) = delete;

  bool enabled() const { return !path_.empty(); }
  // Resolved by ResolveConfigPath(); empty when snapshots are off.
  const std::string& path() const { return path_; }

  // Restores the snapshot, if any, into freshly built models (matched by name through `parser`
  // and checked by ModelFingerprint()), `alerting` and the registry's counters (those of models
  // not restored are skipped). The file is read with a size cap (1 GiB plus a full window per
  // configured model) and must be a regular file. Every value is validated before anything is
  // restored (state/snapshot_validation.h); a file that does not decode or holds an invalid value
  // is refused whole, renamed to "<path>.corrupt-<unix seconds>" with its reason logged and
  // counted, and the daemon starts clean; a model whose configuration changed starts clean.
  // Never throws on file content.
  SnapshotRestoreReport Restore(const std::vector<std::unique_ptr<ModelState>>& models,
                                const ingest::EventParser& parser, Alerting* alerting);

  // Writes the snapshot (written at once when snapshots are off): every model's state and the
  // registry's counters are copied as one cut with all model locks held
  // (ModelState::ExportSnapshots), then encoded and written atomically outside every lock. A
  // failure is counted in modelmon_snapshot_write_failures_total and reported; the caller decides
  // whether it is fatal (it is at shutdown).
  SnapshotWriteReport Write(const std::vector<std::unique_ptr<ModelState>>& models,
                            const Alerting& alerting) LOCKS_EXCLUDED(mu_);

 private:
  // Renames the undecodable file aside; returns what happened, for the log.
  std::string SetAside() const;

  const std::string path_;
  const size_t max_bytes_;  // Read cap, see Restore().
  const Clock* const clock_;
  metrics::Registry* const registry_;
  DaemonMetrics* const metrics_;
  std::mutex mu_;                         // Serialises writes.
  bool failing_ GUARDED_BY(mu_) = false;  // The last write failed.
};

}  // namespace modelmon::state

#endif  // MODELMON_STATE_SNAPSHOT_STORE_H_
