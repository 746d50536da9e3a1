#ifndef MODELMON_SERVER_SERVICE_H_
#define MODELMON_SERVER_SERVICE_H_

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "ingest/event_parser.h"
#include "metrics/metrics.h"
#include "modelmon/clock.h"
#include "modelmon/config.h"
#include "server/auth.h"
#include "server/http_message.h"
#include "server/notifier.h"
#include "server/routes.h"
#include "server/server_metrics.h"
#include "state/alerting.h"
#include "state/daemon_metrics.h"
#include "state/model_state.h"
#include "state/snapshot_store.h"

namespace modelmon::server {

// The daemon's application state, composed: models, alerting, notifier, snapshots, metrics, and
// the route table that dispatches requests to the handlers, without any socket I/O. Thread-safe:
// Handle(), Evaluate() and WriteSnapshot() may run concurrently on any threads. Never throws on
// request data: bad input becomes a 4xx with a JSON body {"error": "..."} and a counter.
class Service {
 public:
  // kServe: the daemon's service. kCheck: the same construction and validation (reference files
  // read and parsed, the snapshot path checked to be a regular file when it exists) with no side
  // effect: no snapshot is read, restored or set aside, and no notifier thread starts; the result
  // only tells whether the config can be served.
  enum class Mode { kServe, kCheck };
  // Builds the models, loads file references and (kServe) restores the snapshot. Returns null and
  // sets *error (a configuration error, "models[I].reference.file: ..." or "state.snapshot_path:
  // ...") when a reference file cannot be loaded or state.snapshot_path is not a regular file (a
  // FIFO, a device). clock must outlive the service.
  static std::unique_ptr<Service> Create(const Config& config, const Clock* clock,
                                         std::string* error, Mode mode = Mode::kServe);
  ~Service();

  // Authenticates the request by its route's scope, routes it and counts it by handler and
  // status. Answers 401 (with WWW-Authenticate), 404, 405 (with Allow), or the handler's answer;
  // 500 or 503 when a handler fails unexpectedly.
  HttpResponse Handle(const HttpRequest& request);

  // Runs every model's evaluation, then the alert rules, logging each alert transition (the daemon
  // calls this on its interval).
  void Evaluate();

  // Writes the state snapshot (true at once when snapshots are off); see
  // state::SnapshotStore::Write(). Failures are logged once per run of failures. Callers keep it
  // off request paths (the daemon calls it from its snapshot thread and once at shutdown).
  bool WriteSnapshot();
  // The snapshot at shutdown: like WriteSnapshot(), but a failure is always logged at error level
  // (naming the path and the cause). False when it failed: the caller exits non-zero.
  bool WriteFinalSnapshot();
  // Whether state.snapshot_path is set: WriteSnapshot() does something.
  bool snapshots_enabled() const { return snapshots_->enabled(); }

  // Readiness: false before start-up completes and once shutdown begins.
  void set_ready(bool ready) { ready_.store(ready); }
  bool ready() const { return ready_.load(); }
  // Readiness false for good; /readyz answers 503 {"status":"draining"}.
  void set_draining() {
    draining_.store(true);
    ready_.store(false);
  }

  const Config& config() const { return config_; }
  state::DaemonMetrics& metrics() { return *metrics_; }
  metrics::Registry& registry() { return *registry_; }
  // The transport's telemetry; HttpServer reports its refusals and admission state here.
  ServerMetrics& server_metrics() { return *server_metrics_; }

 private:
  Service(const Config& config, const Clock* clock);
  HttpResponse Route(const HttpRequest& request, std::string_view* handler);

  const Config config_;
  const Clock* const clock_;
  std::unique_ptr<metrics::Registry> registry_;
  std::unique_ptr<state::DaemonMetrics> metrics_;
  std::unique_ptr<ServerMetrics> server_metrics_;
  std::unique_ptr<ingest::EventParser> parser_;
  std::vector<std::unique_ptr<state::ModelState>> models_;
  std::unique_ptr<state::Alerting> alerting_;
  std::unique_ptr<Notifier> notifier_;  // Null when no notifier is configured.
  std::unique_ptr<state::SnapshotStore> snapshots_;
  std::unique_ptr<Router> router_;
  std::atomic<bool> ready_{false};
  std::atomic<bool> draining_{false};
};

}  // namespace modelmon::server

#endif  // MODELMON_SERVER_SERVICE_H_
