#include "server/handlers.h"

#include <cctype>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "server/limits.h"
#include "server/status_views.h"
#include "state/reference_data.h"

namespace modelmon::server {
namespace {

using nlohmann::json;

constexpr size_t kMaxErrorsReported = 100;

bool ContentTypeIs(std::string_view content_type, std::string_view expected) {
  const size_t semi = content_type.find(';');
  std::string_view base = content_type.substr(0, semi);
  while (!base.empty() && base.back() == ' ') base.remove_suffix(1);
  if (base.size() != expected.size()) return false;
  for (size_t i = 0; i < base.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(base[i])) != expected[i]) return false;
  }
  return true;
}

std::optional<ingest::BodyFormat> BodyFormatOf(std::string_view content_type) {
  if (content_type.empty() || ContentTypeIs(content_type, "application/json")) {
    return ingest::BodyFormat::kJson;
  }
  if (ContentTypeIs(content_type, "application/x-ndjson") ||
      ContentTypeIs(content_type, "application/ndjson") ||
      ContentTypeIs(content_type, "application/jsonl") ||
      ContentTypeIs(content_type, "application/x-jsonlines")) {
    return ingest::BodyFormat::kNdjson;
  }
  return std::nullopt;
}

// {"accepted":N,"rejected":0,"errors":[]} (plus "discarded_bytes" for the discard endpoint),
// formatted directly: the answer to nearly every ingest request.
HttpResponse AllAcceptedResponse(size_t accepted,
                                 std::optional<size_t> discarded_bytes = std::nullopt) {
  HttpResponse r;
  r.body = "{\"accepted\":";
  r.body += std::to_string(accepted);
  r.body += ",\"rejected\":0,\"errors\":[]";
  if (discarded_bytes) {
    r.body += ",\"discarded_bytes\":";
    r.body += std::to_string(*discarded_bytes);
  }
  r.body += "}\n";
  return r;
}

HttpResponse Ingest(const HandlerContext& ctx, const HttpRequest& request, bool predictions) {
  const char* kind = predictions ? "prediction" : "ground_truth";
  auto format = BodyFormatOf(request.content_type);
  if (!format) {
    ctx.metrics.rejected.With({{"kind", kind}, {"reason", ingest::kUnsupportedMediaType}}).Inc();
    return ErrorResponse(415,
                         "unsupported Content-Type; use application/json or "
                         "application/x-ndjson");
  }
  auto respond = [&](auto& batch, auto&& apply) -> HttpResponse {
    if (batch.body_error) {
      ctx.metrics.rejected.With({{"kind", kind}, {"reason", batch.body_reason()}}).Inc();
      if (batch.too_many_events) ctx.server_metrics.CountLimitHit(Limit::kBatchEvents);
      return ErrorResponse(batch.too_many_events ? 413 : 400, *batch.body_error);
    }
    const size_t accepted = batch.events.size();
    apply(batch.events);
    if (batch.errors.empty()) return AllAcceptedResponse(accepted);
    json errors = json::array();
    for (const auto& e : batch.errors) {
      ctx.metrics.rejected.With({{"kind", kind}, {"reason", ingest::RejectReasonName(e.reason)}})
          .Inc();
      if (errors.size() < kMaxErrorsReported) {
        errors.push_back({{"index", e.index}, {"error", e.message}});
      }
    }
    json body{{"accepted", accepted}, {"rejected", batch.errors.size()}, {"errors", errors}};
    if (batch.errors.size() > kMaxErrorsReported) body["errors_truncated"] = true;
    return JsonResponse(accepted == 0 && !batch.errors.empty() ? 400 : 200, body);
  };
  // Groups events by model so that each model's lock is taken once per request.
  auto dispatch = [&ctx](auto& events, auto add) {
    const auto& models = ctx.models;
    if (models.size() == 1) {
      add(*models[0], events);
      return;
    }
    std::vector<std::remove_reference_t<decltype(events)>> by_model(models.size());
    for (auto& ev : events) by_model[ev.model].push_back(std::move(ev));
    for (size_t m = 0; m < models.size(); ++m) add(*models[m], by_model[m]);
  };
  const size_t max_events = ctx.config.server.max_batch_events;
  if (predictions) {
    auto batch = ctx.parser.ParsePredictions(request.body, *format, max_events);
    return respond(batch, [&](std::vector<ingest::PredictionEvent>& events) {
      dispatch(events, [](state::ModelState& m, auto& e) { m.AddPredictions(e); });
    });
  }
  auto batch = ctx.parser.ParseGroundTruth(request.body, *format, max_events);
  return respond(batch, [&](std::vector<ingest::GroundTruthEvent>& events) {
    dispatch(events, [](state::ModelState& m, auto& e) { m.AddGroundTruth(e); });
  });
}

}  // namespace

HttpResponse HandleMetrics(const HandlerContext& ctx, const HttpRequest&, size_t) {
  HttpResponse r;
  r.content_type = metrics::kTextContentType;
  r.body = ctx.registry.Serialize();
  return r;
}

HttpResponse HandleHealthz(const HandlerContext&, const HttpRequest&, size_t) {
  return JsonResponse(200, json{{"status", "ok"}});
}

HttpResponse HandleReadyz(const HandlerContext& ctx, const HttpRequest&, size_t) {
  if (ctx.ready) return JsonResponse(200, json{{"status", "ready"}});
  return JsonResponse(503, json{{"status", ctx.draining ? "draining" : "not ready"}});
}

HttpResponse HandlePredictions(const HandlerContext& ctx, const HttpRequest& request, size_t) {
  return Ingest(ctx, request, true);
}

HttpResponse HandleGroundTruth(const HandlerContext& ctx, const HttpRequest& request, size_t) {
  return Ingest(ctx, request, false);
}

HttpResponse HandleDiscard(const HandlerContext&, const HttpRequest& request, size_t) {
  // Built like the ingest answer so that both cost the same to serialise and send.
  return AllAcceptedResponse(0, request.body.size());
}

HttpResponse HandleAlerts(const HandlerContext& ctx, const HttpRequest&, size_t) {
  return JsonResponse(200,
                      AlertsJson(ctx.alerting.Active(), ctx.clock.Now(), ctx.clock.UnixSeconds()));
}

HttpResponse HandleModels(const HandlerContext& ctx, const HttpRequest&, size_t) {
  json models = json::array();
  for (const auto& m : ctx.models) {
    models.push_back(ModelStatusJson(m->Status(), false, m->schema().config().classes));
  }
  return JsonResponse(200, json{{"models", models}});
}

HttpResponse HandleModel(const HandlerContext& ctx, const HttpRequest&, size_t model) {
  state::ModelState& m = *ctx.models[model];
  return JsonResponse(200, ModelStatusJson(m.Status(), true, m.schema().config().classes));
}

HttpResponse HandleReference(const HandlerContext& ctx, const HttpRequest& request, size_t model) {
  state::ReferenceFormat format;
  if (ContentTypeIs(request.content_type, "text/csv")) {
    format = state::ReferenceFormat::kCsv;
  } else if (BodyFormatOf(request.content_type)) {
    format = state::ReferenceFormat::kJsonLines;
  } else {
    return ErrorResponse(415, "unsupported Content-Type; use text/csv or application/x-ndjson");
  }
  state::ReferenceLoad load = state::ParseReference(request.body, format, ctx.parser, model);
  if (!load.data) return ErrorResponse(400, load.error);
  const size_t rows = load.data->rows();
  if (rows == 0) return ErrorResponse(400, "the reference has no rows");
  ctx.models[model]->SetReference(std::move(*load.data), "upload");
  return JsonResponse(200, json{{"reference_rows", rows}});
}

HttpResponse HandlePromote(const HandlerContext& ctx, const HttpRequest&, size_t model) {
  std::string error;
  if (!ctx.models[model]->PromoteWindow(&error)) return ErrorResponse(409, error);
  return JsonResponse(200, json{{"promoted", true}});
}

}  // namespace modelmon::server
