#include "state/snapshot_store.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <system_error>
#include <utility>

#include "state/snapshot.h"
#include "state/snapshot_file.h"

namespace modelmon::state {
namespace {

// Far above any real snapshot (a 1M-event window of 100 features is ~800 MB).
constexpr size_t kMaxSnapshotBytes = size_t{4} << 30;

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
  bool missing = false;
  std::optional<std::string> bytes =
      ReadSnapshotFile(path_, kMaxSnapshotBytes, &missing, &report.error);
  if (!bytes) {
    if (missing) {
      report.outcome = Outcome::kMissing;
    } else {
      report.outcome = Outcome::kUnreadable;
      metrics_->snapshot_restore_failures.With({{"reason", "io"}}).Inc();
    }
    return report;
  }
  const auto started = std::chrono::steady_clock::now();
  DecodeResult decoded = DecodeSnapshot(*bytes);
  bytes.reset();
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
  for (const auto& model : models) snapshot.models.push_back(model->ExportSnapshot(now));
  snapshot.alerts = alerting.Export(now);
  for (metrics::Registry::CounterValue& c : registry_->Counters("modelmon_")) {
    snapshot.counters.push_back({std::move(c.name), std::move(c.labels), c.value});
  }
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
