#ifndef MODELMON_SERVER_LIMITS_H_
#define MODELMON_SERVER_LIMITS_H_

#include <array>
#include <cstddef>
#include <string_view>

namespace modelmon::server {

// Why a request was refused before or while its handler ran: the `limit` label of
// modelmon_limit_hits_total.
enum class Limit {
  kBodyBytes,         // 413: the body exceeds server.max_body_bytes.
  kHeaderBytes,       // 431: the headers exceed server.max_header_bytes.
  kBatchEvents,       // 413: a batch holds more than server.max_batch_events events.
  kRequestTimeout,    // 408: the request was not received within server.request_timeout.
  kHeaderTimeout,     // No complete request head within server.header_timeout: closed (408 if
                      // part of a head arrived).
  kConnections,       // A connection closed at once: server.max_connections are busy.
  kEvicted,           // An idle connection closed to make room for a new one at the cap.
  kMalformedRequest,  // 400: the bytes are not an HTTP/1.1 request.
  kInflightRequests,  // 503: server.max_inflight_requests are admitted.
  kInflightBytes,     // 503: server.max_inflight_bytes are reserved.
  kDraining,          // 503: an ingest or admin request arrived during a drain.
};

// Every limit, in declaration order: the series exported at zero from the start.
inline constexpr std::array<Limit, 11> kAllLimits = {
    Limit::kBodyBytes,        Limit::kHeaderBytes,   Limit::kBatchEvents, Limit::kRequestTimeout,
    Limit::kHeaderTimeout,    Limit::kConnections,   Limit::kEvicted,     Limit::kMalformedRequest,
    Limit::kInflightRequests, Limit::kInflightBytes, Limit::kDraining};

// The label value of `limit`, e.g. "body_bytes". The result is a static string.
constexpr std::string_view LimitName(Limit limit) {
  switch (limit) {
    case Limit::kBodyBytes:
      return "body_bytes";
    case Limit::kHeaderBytes:
      return "header_bytes";
    case Limit::kBatchEvents:
      return "batch_events";
    case Limit::kRequestTimeout:
      return "request_timeout";
    case Limit::kHeaderTimeout:
      return "header_timeout";
    case Limit::kConnections:
      return "connections";
    case Limit::kEvicted:
      return "connections_evicted";
    case Limit::kMalformedRequest:
      return "malformed_request";
    case Limit::kInflightRequests:
      return "inflight_requests";
    case Limit::kInflightBytes:
      return "inflight_bytes";
    case Limit::kDraining:
      return "draining";
  }
  return "unknown";
}

}  // namespace modelmon::server

#endif  // MODELMON_SERVER_LIMITS_H_
