#ifndef MODELMON_SERVER_SERVICE_H_
#define MODELMON_SERVER_SERVICE_H_

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/thread_annotations.h"
#include "ingest/event_parser.h"
#include "metrics/metrics.h"
#include "modelmon/clock.h"
#include "modelmon/config.h"
#include "server/notifier.h"
#include "state/alerting.h"
#include "state/daemon_metrics.h"
#include "state/model_state.h"

namespace modelmon::server {

// A request as the transport hands it over, independent of the HTTP library. Views are valid for
// the duration of HandleRequest().
struct HttpRequest {
  std::string_view method;
  std::string_view target;  // Path and query.
  std::string_view content_type;
  std::string_view authorization;  // The Authorization header, "" when absent.
  std::string_view body;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// Which token guards an endpoint, and how a drain treats it: ingest and admin requests are refused
// once a drain begins, read and health requests are served until the listener closes.
enum class Scope { kHealth, kRead, kIngest, kAdmin };

// The scope of a request target (path and query), by path alone, as Handle() routes it.
// POST /v1/discard (the benchmarks' baseline, off unless enabled) counts as ingest.
Scope ScopeOf(std::string_view target);

// The daemon's application state and every endpoint's logic, without any socket I/O. Thread-safe:
// Handle() and Evaluate() may run concurrently on any threads. Never throws on request data: bad
// input becomes a 4xx with a JSON body {"error": "..."} and a counter.
class Service {
 public:
  // Builds the models and loads file references. Returns null and sets *error when a reference
  // file cannot be loaded. clock must outlive the service.
  static std::unique_ptr<Service> Create(const Config& config, const Clock* clock,
                                         std::string* error);
  ~Service();

  HttpResponse Handle(const HttpRequest& request);

  // Runs every model's evaluation, then the alert rules, logging each alert transition (the daemon
  // calls this on its interval).
  void Evaluate();

  // Writes the state snapshot to config.state.snapshot_path (true at once when snapshots are off):
  // each model's state is copied under its lock, then encoded and written atomically outside every
  // lock. A failure is logged and counted, never fatal. Serialised internally; callers keep it off
  // request paths (the daemon calls it from its snapshot thread and once at shutdown).
  bool WriteSnapshot() LOCKS_EXCLUDED(snapshot_mu_);

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

  // Counts a request refused by the transport (413, 431, 408, 503...) under `limit`.
  void CountLimitHit(const char* limit);
  // Publishes the transport's admission state (modelmon_inflight_requests,
  // modelmon_inflight_bytes).
  void SetInflight(size_t requests, size_t bytes);
  // Counts a failed TLS handshake (modelmon_tls_handshake_failures_total{reason}); reason is one
  // of "timeout", "plain_http", "eof", "protocol".
  void CountTlsHandshakeFailure(const char* reason);

 private:
  Service(const Config& config, const Clock* clock);
  HttpResponse Route(const HttpRequest& request, std::string* handler);
  HttpResponse Ingest(const HttpRequest& request, bool predictions);
  // POST /v1/discard (only with config.server.bench_discard_endpoint): the body was read by the
  // transport; it is dropped and answered {"accepted": 0, ..., "discarded_bytes": N}. O(1).
  HttpResponse Discard(const HttpRequest& request);
  HttpResponse ModelStatusResponse(size_t model) const;
  HttpResponse ModelList() const;
  HttpResponse PutReference(const HttpRequest& request, size_t model);
  HttpResponse Promote(size_t model);
  HttpResponse AlertList() const;
  // The request counter and latency histogram of (handler, status), created on first use. Handlers
  // and statuses come from a fixed set, so the cache stays small. The reference stays valid.
  struct RequestSeries {
    metrics::Counter requests;
    metrics::Histogram duration;
  };
  const RequestSeries& RequestSeriesFor(const std::string& handler, int status);
  // Restores the snapshot at snapshot_path_, if any, into the freshly built models, alerts and
  // counters. A file that cannot be decoded is renamed aside and the daemon starts clean.
  void RestoreSnapshot();

  const Config config_;
  const Clock* const clock_;
  std::unique_ptr<metrics::Registry> registry_;
  std::unique_ptr<state::DaemonMetrics> metrics_;
  std::unique_ptr<ingest::EventParser> parser_;
  std::vector<std::unique_ptr<state::ModelState>> models_;
  std::unique_ptr<state::Alerting> alerting_;
  std::unique_ptr<Notifier> notifier_;  // Null when no notifier is configured.
  metrics::Gauge inflight_requests_;
  metrics::Gauge inflight_bytes_;
  metrics::CounterFamily tls_failures_;
  std::atomic<bool> ready_{false};
  std::mutex request_series_mu_;
  std::map<std::pair<std::string, int>, RequestSeries> request_series_
      GUARDED_BY(request_series_mu_);
  std::string snapshot_path_;  // Resolved; empty when snapshots are off.
  std::mutex snapshot_mu_;     // Serialises snapshot writes.
  bool snapshot_failing_ GUARDED_BY(snapshot_mu_) = false;  // The last write failed (logged).
  std::atomic<bool> draining_{false};
};

// A JSON error body {"error": message}.
HttpResponse ErrorResponse(int status, std::string_view message);

}  // namespace modelmon::server

#endif  // MODELMON_SERVER_SERVICE_H_
