#ifndef MODELMON_SERVER_SERVER_METRICS_H_
#define MODELMON_SERVER_SERVER_METRICS_H_

#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "common/thread_annotations.h"
#include "metrics/metrics.h"
#include "server/limits.h"

namespace modelmon::server {

// The transport's telemetry: requests and their duration by handler, limit hits, authentication
// failures, admission state and TLS handshake failures. Registered once on `registry`, which must
// outlive this object. Thread-safe: every method may be called concurrently from any thread.
class ServerMetrics {
 public:
  // Registers the families and exports the limit series (and, with `tls`, the TLS handshake
  // failure series) at zero so that rate() works from the start.
  ServerMetrics(metrics::Registry& registry, bool tls);

  ServerMetrics(const ServerMetrics&) = delete;
  ServerMetrics& operator=(const ServerMetrics&) = delete;

  // modelmon_http_requests_total{handler,code} and modelmon_http_request_duration_seconds{handler}.
  // Handlers and statuses come from fixed sets: the series are cached after first use, so a
  // request costs one map lookup under a mutex.
  void CountRequest(std::string_view handler, int status, double seconds)
      LOCKS_EXCLUDED(request_series_mu_);
  // modelmon_limit_hits_total{limit}.
  void CountLimitHit(Limit limit);
  // modelmon_auth_failures_total{scope}; scope is "read", "ingest" or "admin".
  void CountAuthFailure(std::string_view scope);
  // modelmon_inflight_requests and modelmon_inflight_bytes.
  void SetInflight(size_t requests, size_t bytes);
  // modelmon_tls_handshake_failures_total{reason}; reason is one of "timeout", "plain_http", "eof",
  // "protocol".
  void CountTlsHandshakeFailure(std::string_view reason);

 private:
  struct RequestSeries {
    metrics::Counter requests;
    metrics::Histogram duration;
  };

  metrics::CounterFamily http_requests_;
  metrics::HistogramFamily http_duration_;
  metrics::CounterFamily limit_hits_;
  metrics::CounterFamily auth_failures_;
  metrics::Gauge inflight_requests_;
  metrics::Gauge inflight_bytes_;
  metrics::CounterFamily tls_failures_;
  std::mutex request_series_mu_;
  std::map<std::pair<std::string, int>, RequestSeries> request_series_
      GUARDED_BY(request_series_mu_);
};

}  // namespace modelmon::server

#endif  // MODELMON_SERVER_SERVER_METRICS_H_
