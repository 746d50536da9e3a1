#include "state/snapshot_store.h"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <system_error>
#include <utility>

#include "state/snapshot.h"
#include "state/snapshot_file.h"
#include "state/snapshot_validation.h"

namespace modelmon::state {
namespace {

// The largest snapshot file read at start. Every part of the state is bounded by the
// configuration, but a reference (uploaded, promoted, captured or from a file) is bounded only by
// what produced it, so the cap is a fixed generous 1 GiB plus, per model, a full window of numbers
// (8 bytes per value and 8 per arrival age): a legitimate file of a configured state fits, and a
// hostile or runaway one costs at most this much memory before it is refused.
size_t MaxSnapshotBytes(const Config& config) {
  uint64_t bytes = uint64_t{1} << 30;
  for (const ModelConfig& m : config.models) {
    bytes += uint64_t{m.window.size} * 8 * (m.features.size() + 3);
  }
  return static_cast<size_t>(std::min<uint64_t>(bytes, SIZE_MAX));
}

using Ms = std::chrono::duration<double, std::milli>;

}  // namespace

std::string ResolveConfigPath(const Config& config, const std::string& path) {
  if (path.empty()) return path;
  std::filesystem::path resolved(path);
  if (resolved.is_relative() && !config.source_path.empty()) {
    resolved = std::filesystem::path(config.source_path).parent_path() / resolved;
  }
  return resolved.string();
}

SnapshotStore::SnapshotStore(const Config& config, const Clock* clock, metrics::Registry* registry,
                             DaemonMetrics* metrics)
    : path_(ResolveConfigPath(config, config.state.snapshot_path)),
      max_bytes_(MaxSnapshotBytes(config)),
      clock_(clock),
      registry_(registry),
      metrics_(metrics) {
  if (enabled()) {
    metrics_->snapshot_writes.With({}).Inc(0);
    metrics_->snapshot_write_failures.With({}).Inc(0);
  }
}

std::string SnapshotStore::SetAside() const {
  std::string aside = path_;
  aside += ".corrupt-";
  aside += std::to_string(static_cast<int64_t>(clock_->UnixSeconds()));
  std::error_code ec;
  std::filesystem::rename(path_, aside, ec);
  return ec ? "could not set it aside: " + ec.message() : "moved to " + aside;
}

SnapshotRestoreReport SnapshotStore::Restore(const std::vector<std::unique_ptr<ModelState>>& models,
                                             const ingest::EventParser& parser,
                                             Alerting* alerting) {
  using Outcome = SnapshotRestoreReport::Outcome;
  SnapshotRestoreReport report;
  if (!enabled()) return report;
  std::optional<std::string> bytes(std::in_place);
  switch (ReadSnapshotFile(path_, max_bytes_, &*bytes, &report.error)) {
    case SnapshotReadStatus::kOk:
      break;
    case SnapshotReadStatus::kMissing:
      report.outcome = Outcome::kMissing;
      return report;
    case SnapshotReadStatus::kNotRegular:
      report.outcome = Outcome::kNotRegular;
      metrics_->snapshot_restore_failures.With({{"reason", "io"}}).Inc();
      return report;
    case SnapshotReadStatus::kTooLarge:
    case SnapshotReadStatus::kFailed:
      report.outcome = Outcome::kUnreadable;
      metrics_->snapshot_restore_failures.With({{"reason", "io"}}).Inc();
      return report;
  }
  const auto started = std::chrono::steady_clock::now();
  DecodeResult decoded = DecodeSnapshot(*bytes);
  bytes.reset();
  // Every model's content is checked against its schema before anything is restored: a snapshot
  // is restored whole or not at all.
  if (decoded.snapshot) {
    for (const ModelSnapshot& m : decoded.snapshot->models) {
      const auto index = parser.ModelIndex(m.name);
      if (!index || m.fingerprint != ModelFingerprint(models[*index]->schema())) continue;
      if (!ValidateModelSnapshot(m, models[*index]->schema(), &decoded.message)) {
        decoded.snapshot.reset();
        decoded.error = DecodeError::kInvalid;
        break;
      }
    }
  }
  if (!decoded.snapshot) {
    report.outcome = Outcome::kCorrupt;
    report.reason = DecodeErrorName(decoded.error);
    report.error = decoded.message;
    report.set_aside = SetAside();
    metrics_->snapshot_restore_failures.With({{"reason", report.reason}}).Inc();
    return report;
  }
  report.outcome = Outcome::kRestored;
  const Snapshot& snapshot = *decoded.snapshot;
  report.wall_time = snapshot.wall_time;
  // Time that passed while the daemon was down counts towards every age.
  report.down_seconds = std::clamp(clock_->UnixSeconds() - snapshot.wall_time, 0.0, 3.0e9);
  const auto downtime = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::duration<double>(report.down_seconds));
  std::set<std::string> restored;
  for (const ModelSnapshot& m : snapshot.models) {
    const auto index = parser.ModelIndex(m.name);
    if (!index) {
      report.skipped.push_back({m.name, false});
      continue;
    }
    if (m.fingerprint != ModelFingerprint(models[*index]->schema())) {
      report.skipped.push_back({m.name, true});
      metrics_->snapshot_restore_failures.With({{"reason", "config_changed"}}).Inc();
      continue;
    }
    const size_t n = models[*index]->ImportSnapshot(m, downtime);
    metrics_->snapshot_restored_events.With({{"model", m.name}}).Set(static_cast<double>(n));
    report.events += n;
    restored.insert(m.name);
  }
  report.models = restored.size();
  report.alerts = alerting->Import(snapshot.alerts, clock_->Now(), downtime);
  for (const CounterSnapshot& c : snapshot.counters) {
    auto model = c.labels.find("model");
    if (model != c.labels.end() && restored.count(model->second) == 0) continue;
    if (registry_->RaiseCounter(c.name, c.labels, c.value)) ++report.counters;
  }
  report.elapsed_ms = Ms(std::chrono::steady_clock::now() - started).count();
  return report;
}

SnapshotWriteReport SnapshotStore::Write(const std::vector<std::unique_ptr<ModelState>>& models,
                                         const Alerting& alerting) {
  SnapshotWriteReport report;
  if (!enabled()) return report;
  std::lock_guard<std::mutex> lock(mu_);
  const auto started = std::chrono::steady_clock::now();
  Snapshot snapshot;
  const auto now = clock_->Now();
  snapshot.wall_time = clock_->UnixSeconds();
  // Counters are read while every model's lock is held: the models update theirs under those
  // locks, so the counters and the model states in one snapshot are one cut.
  snapshot.models = ModelState::ExportSnapshots(models, now, [&] {
    for (metrics::Registry::CounterValue& c : registry_->Counters("modelmon_")) {
      snapshot.counters.push_back({std::move(c.name), std::move(c.labels), c.value});
    }
  });
  snapshot.alerts = alerting.Export(now);
  const auto copied = std::chrono::steady_clock::now();
  const std::string bytes = EncodeSnapshot(snapshot);
  const auto encoded = std::chrono::steady_clock::now();
  report.written = WriteFileAtomically(path_, bytes, &report.error);
  const auto done = std::chrono::steady_clock::now();
  report.bytes = bytes.size();
  report.copy_ms = Ms(copied - started).count();
  report.encode_ms = Ms(encoded - copied).count();
  report.write_ms = Ms(done - encoded).count();
  if (!report.written) {
    metrics_->snapshot_write_failures.With({}).Inc();
    report.first_failure = !failing_;
    failing_ = true;
    return report;
  }
  report.recovered = failing_;
  failing_ = false;
  metrics_->snapshot_writes.With({}).Inc();
  metrics_->snapshot_bytes.With({}).Set(static_cast<double>(bytes.size()));
  metrics_->snapshot_last_write.With({}).Set(snapshot.wall_time);
  return report;
}

}  // namespace modelmon::state
