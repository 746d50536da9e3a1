#include "server/server_metrics.h"

namespace modelmon::server {

ServerMetrics::ServerMetrics(metrics::Registry& r, bool tls)
    : http_requests_(r.AddCounter("modelmon_http_requests_total",
                                  "HTTP requests served, by handler and status code.")),
      http_duration_(r.AddHistogram(
          "modelmon_http_request_duration_seconds", "HTTP request handling time in seconds.",
          {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1})),
      limit_hits_(r.AddCounter("modelmon_limit_hits_total",
                               "Requests or events refused because a configured limit was hit.")),
      auth_failures_(r.AddCounter("modelmon_auth_failures_total",
                                  "Requests refused for a missing or wrong bearer token.")),
      inflight_requests_(
          r.AddGauge("modelmon_inflight_requests",
                     "Requests with a body or to ingest/admin endpoints admitted and not answered.")
              .With({})),
      inflight_bytes_(r.AddGauge("modelmon_inflight_bytes",
                                 "Request body bytes reserved by admitted requests in flight.")
                          .With({})),
      tls_failures_(r.AddCounter("modelmon_tls_handshake_failures_total",
                                 "TLS handshakes that failed, by reason.")) {
  for (Limit limit : kAllLimits) {
    limit_hits_.With({{"limit", std::string(LimitName(limit))}}).Inc(0);
  }
  if (tls) {
    for (const char* reason : {"timeout", "plain_http", "eof", "protocol"}) {
      tls_failures_.With({{"reason", reason}}).Inc(0);
    }
  }
}

void ServerMetrics::CountRequest(std::string_view handler, int status, double seconds) {
  std::lock_guard<std::mutex> lock(request_series_mu_);
  auto key = std::make_pair(std::string(handler), status);
  auto it = request_series_.find(key);
  if (it == request_series_.end()) {
    RequestSeries series{
        http_requests_.With({{"handler", key.first}, {"code", std::to_string(status)}}),
        http_duration_.With({{"handler", key.first}})};
    it = request_series_.emplace(std::move(key), series).first;
  }
  it->second.duration.Observe(seconds);
  it->second.requests.Inc();
}

void ServerMetrics::CountLimitHit(Limit limit) {
  limit_hits_.With({{"limit", std::string(LimitName(limit))}}).Inc();
}

void ServerMetrics::CountAuthFailure(std::string_view scope) {
  auth_failures_.With({{"scope", std::string(scope)}}).Inc();
}

void ServerMetrics::SetInflight(size_t requests, size_t bytes) {
  inflight_requests_.Set(static_cast<double>(requests));
  inflight_bytes_.Set(static_cast<double>(bytes));
}

void ServerMetrics::CountTlsHandshakeFailure(std::string_view reason) {
  tls_failures_.With({{"reason", std::string(reason)}}).Inc();
}

}  // namespace modelmon::server
