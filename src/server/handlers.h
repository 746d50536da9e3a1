#ifndef MODELMON_SERVER_HANDLERS_H_
#define MODELMON_SERVER_HANDLERS_H_

#include <cstddef>
#include <memory>
#include <vector>

#include "ingest/event_parser.h"
#include "metrics/metrics.h"
#include "modelmon/clock.h"
#include "modelmon/config.h"
#include "server/http_message.h"
#include "server/server_metrics.h"
#include "state/alerting.h"
#include "state/daemon_metrics.h"
#include "state/model_state.h"

namespace modelmon::server {

// What the endpoint handlers read and act on, borrowed from Service for one request. The handlers
// are free functions of this context: each is thread-safe as far as the objects it touches are
// (ModelState, Alerting and the metrics all are), and none throws on request data.
struct HandlerContext {
  const Config& config;
  const Clock& clock;
  const metrics::Registry& registry;
  state::DaemonMetrics& metrics;
  ServerMetrics& server_metrics;
  const ingest::EventParser& parser;
  const std::vector<std::unique_ptr<state::ModelState>>& models;
  const state::Alerting& alerting;
  bool ready;
  bool draining;
};

// The endpoints of Routes(); `model` is the index of the path's {model}, 0 where there is none.

// GET /metrics: the Prometheus text exposition of the registry.
HttpResponse HandleMetrics(const HandlerContext& context, const HttpRequest& request, size_t model);
// GET /healthz: {"status":"ok"}.
HttpResponse HandleHealthz(const HandlerContext& context, const HttpRequest& request, size_t model);
// GET /readyz: 200 {"status":"ready"}, else 503 "not ready" or "draining".
HttpResponse HandleReadyz(const HandlerContext& context, const HttpRequest& request, size_t model);
// POST /v1/predictions and /v1/ground-truth: parses the batch (JSON or NDJSON, at most
// server.max_batch_events events), hands the valid events to their models (each model's lock
// taken once), and answers {"accepted", "rejected", "errors"}; 400 when nothing was accepted, 413
// over the batch limit, 415 for another Content-Type. Every rejection is counted by reason.
HttpResponse HandlePredictions(const HandlerContext& context, const HttpRequest& request,
                               size_t model);
HttpResponse HandleGroundTruth(const HandlerContext& context, const HttpRequest& request,
                               size_t model);
// POST /v1/discard (only with server.bench_discard_endpoint): drops the body and answers like
// ingest, {"accepted": 0, ..., "discarded_bytes": N}. O(1).
HttpResponse HandleDiscard(const HandlerContext& context, const HttpRequest& request, size_t model);
// GET /v1/alerts: the pending and firing alerts.
HttpResponse HandleAlerts(const HandlerContext& context, const HttpRequest& request, size_t model);
// GET /v1/models: every model's summary.
HttpResponse HandleModels(const HandlerContext& context, const HttpRequest& request, size_t model);
// GET /v1/models/{model}: one model's full status.
HttpResponse HandleModel(const HandlerContext& context, const HttpRequest& request, size_t model);
// PUT /v1/models/{model}/reference: replaces the reference (CSV or JSON lines); 400 for a body
// that does not parse or has no rows, 415 for another Content-Type.
HttpResponse HandleReference(const HandlerContext& context, const HttpRequest& request,
                             size_t model);
// POST /v1/models/{model}/reference/promote: the current window becomes the reference; 409 when
// the model cannot promote it.
HttpResponse HandlePromote(const HandlerContext& context, const HttpRequest& request, size_t model);

}  // namespace modelmon::server

#endif  // MODELMON_SERVER_HANDLERS_H_
