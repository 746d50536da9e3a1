#include "server/service.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <exception>
#include <filesystem>
#include <new>
#include <optional>
#include <string_view>
#include <system_error>
#include <utility>

#include "server/handlers.h"
#include "state/reference_data.h"

namespace modelmon::server {
namespace {

void LogRestore(const std::string& path, const state::SnapshotRestoreReport& r) {
  using Outcome = state::SnapshotRestoreReport::Outcome;
  switch (r.outcome) {
    case Outcome::kOff:
      return;
    case Outcome::kMissing:
      spdlog::info("no state snapshot at {}: starting clean", path);
      return;
    case Outcome::kUnreadable:
      spdlog::error("cannot read the state snapshot ({}): starting clean", r.error);
      return;
    case Outcome::kNotRegular:
      return;  // Create() refuses to start.
    case Outcome::kCorrupt:
      spdlog::error("state snapshot {} not restored ({}: {}); {}; starting clean", path, r.reason,
                    r.error, r.set_aside);
      return;
    case Outcome::kRestored:
      break;
  }
  for (const auto& m : r.skipped) {
    if (m.config_changed) {
      spdlog::warn(
          "state snapshot: model {} changed incompatibly (task, classes, features, window size, "
          "psi_bins or max_categories); it starts clean",
          m.name);
    } else {
      spdlog::info("state snapshot: model {} is no longer configured; skipped", m.name);
    }
  }
  spdlog::info(
      "restored state snapshot {} taken at {:.3f} ({:.1f}s ago): {} model(s), {} window event(s), "
      "{} alert(s), {} counter series, in {:.1f} ms",
      path, r.wall_time, r.down_seconds, r.models, r.events, r.alerts, r.counters, r.elapsed_ms);
}

HttpResponse MethodNotAllowed(const std::string& allow) {
  HttpResponse r = ErrorResponse(405, "method not allowed; use " + allow);
  r.headers.emplace_back("Allow", allow);
  return r;
}

}  // namespace

Service::Service(const Config& config, const Clock* clock)
    : config_(config),
      clock_(clock),
      registry_(std::make_unique<metrics::Registry>()),
      metrics_(std::make_unique<state::DaemonMetrics>(*registry_)),
      server_metrics_(std::make_unique<ServerMetrics>(*registry_, config.server.tls.enabled())) {}

Service::~Service() = default;

std::unique_ptr<Service> Service::Create(const Config& config, const Clock* clock,
                                         std::string* error, Mode mode) {
  std::unique_ptr<Service> service(new Service(config, clock));
  std::vector<std::shared_ptr<const ingest::ModelSchema>> schemas;
  for (const ModelConfig& m : config.models) {
    schemas.push_back(std::make_shared<const ingest::ModelSchema>(m));
  }
  service->parser_ = std::make_unique<ingest::EventParser>(schemas);
  const ingest::EventParser* parser = service->parser_.get();
  service->router_ = std::make_unique<Router>(
      config.server.bench_discard_endpoint,
      [parser](std::string_view name) { return parser->ModelIndex(name); });
  service->alerting_ = std::make_unique<state::Alerting>(config.alerts, service->metrics_.get());
  if (mode == Mode::kServe) {
    service->notifier_ = Notifier::Create(
        config.notify, config.server.listen_address + ":" + std::to_string(config.server.port),
        *service->registry_, clock);
  }
  for (size_t i = 0; i < schemas.size(); ++i) {
    auto model = std::make_unique<state::ModelState>(schemas[i], service->metrics_.get(), clock);
    const std::string file = state::ResolveConfigPath(config, config.models[i].reference.file);
    if (!file.empty()) {
      state::ReferenceLoad load = state::LoadReferenceFile(file, *service->parser_, i);
      if (!load.data) {
        *error = "models[" + std::to_string(i) + "].reference.file: " + load.error;
        return nullptr;
      }
      model->SetReference(std::move(*load.data), "file");
    }
    service->models_.push_back(std::move(model));
  }
  service->snapshots_ = std::make_unique<state::SnapshotStore>(
      config, clock, service->registry_.get(), service->metrics_.get());
  if (mode == Mode::kServe) {
    const state::SnapshotRestoreReport restore =
        service->snapshots_->Restore(service->models_, *service->parser_, service->alerting_.get());
    if (restore.outcome == state::SnapshotRestoreReport::Outcome::kNotRegular) {
      // A FIFO or a device cannot hold a snapshot, and every write would try to replace it.
      *error = "state.snapshot_path: " + restore.error;
      return nullptr;
    }
    LogRestore(service->snapshots_->path(), restore);
  } else if (!service->snapshots_->path().empty()) {
    // The same refusal as start-up, without reading the snapshot.
    std::error_code ec;
    const auto status = std::filesystem::status(service->snapshots_->path(), ec);
    if (!ec && std::filesystem::exists(status) && !std::filesystem::is_regular_file(status)) {
      *error = "state.snapshot_path: " + service->snapshots_->path() + ": not a regular file";
      return nullptr;
    }
  }
  // Rejection reasons are known up front: export them at zero so rate() works from the start.
  for (const char* kind : {"prediction", "ground_truth"}) {
    for (size_t r = 0; r < static_cast<size_t>(ingest::RejectReason::kCount); ++r) {
      service->metrics_->rejected
          .With({{"kind", kind},
                 {"reason", ingest::RejectReasonName(static_cast<ingest::RejectReason>(r))}})
          .Inc(0);
    }
  }
  return service;
}

bool Service::WriteSnapshot() {
  if (!snapshots_->enabled()) return true;
  const state::SnapshotWriteReport r = snapshots_->Write(models_, *alerting_);
  spdlog::debug("state snapshot: {} bytes; copy {:.1f} ms, encode {:.1f} ms, write {:.1f} ms",
                r.bytes, r.copy_ms, r.encode_ms, r.write_ms);
  if (!r.written) {
    if (r.first_failure) spdlog::error("state snapshot not written: {}", r.error);
    return false;
  }
  if (r.recovered) spdlog::info("state snapshot written again to {}", snapshots_->path());
  return true;
}

bool Service::WriteFinalSnapshot() {
  if (!snapshots_->enabled()) return true;
  const state::SnapshotWriteReport r = snapshots_->Write(models_, *alerting_);
  if (r.written) return true;
  spdlog::error(
      "final state snapshot not written to {}: {}; state accepted since the last snapshot is lost "
      "and a restart restores an older one",
      snapshots_->path(), r.error);
  return false;
}

void Service::Evaluate() {
  std::vector<state::ModelStatus> statuses;
  for (auto& model : models_) {
    model->Evaluate();
    statuses.push_back(model->Status());
  }
  if (alerting_->empty()) return;
  const std::vector<alerts::Transition> transitions = alerting_->Evaluate(statuses, clock_->Now());
  if (notifier_) notifier_->Update(alerting_->Active(), transitions);
  for (const alerts::Transition& t : transitions) {
    std::string labels;
    for (const auto& [k, v] : t.alert.labels) {
      if (k != "alertname") labels += (labels.empty() ? "" : ",") + k + "=" + v;
    }
    const bool resolved = t.to == alerts::State::kInactive;
    const auto level = t.to == alerts::State::kFiring ? spdlog::level::warn : spdlog::level::info;
    spdlog::log(level, "alert {} {} -> {} ({}), value {}", t.alert.rule, alerts::StateName(t.from),
                resolved ? "resolved" : alerts::StateName(t.to), labels, t.alert.last_value);
  }
}

HttpResponse Service::Handle(const HttpRequest& request) {
  const auto start = std::chrono::steady_clock::now();
  std::string_view handler = "other";
  HttpResponse response;
  try {
    response = Route(request, &handler);
  } catch (const std::bad_alloc&) {
    response = ErrorResponse(503, "out of memory while handling the request");
  } catch (const std::exception& e) {
    response = ErrorResponse(500, std::string("internal error: ") + e.what());
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  server_metrics_->CountRequest(handler, response.status, seconds);
  return response;
}

HttpResponse Service::Route(const HttpRequest& request, std::string_view* handler) {
  const RouteMatch match = router_->Match(request.method, request.target);
  // Authentication by scope; the health endpoints stay open for probes.
  if (match.scope != Scope::kHealth &&
      !BearerAuthorized(request.authorization, TokenFor(config_.server, match.scope))) {
    *handler = "unauthorized";
    server_metrics_->CountAuthFailure(ScopeName(match.scope));
    return Unauthorized(match.scope);
  }
  *handler = match.handler;
  switch (match.kind) {
    case RouteMatch::Kind::kFound:
      break;
    case RouteMatch::Kind::kMethodNotAllowed:
      return MethodNotAllowed(AllowedMethods(request.target, router_->bench_routes()));
    case RouteMatch::Kind::kUnknownModel:
      return ErrorResponse(404,
                           "unknown model \"" + std::string(match.model_name.substr(0, 64)) + "\"");
    case RouteMatch::Kind::kNotFound:
      return ErrorResponse(404,
                           "no such endpoint; see GET /v1/models, POST /v1/predictions, "
                           "POST /v1/ground-truth, GET /metrics");
  }
  const HandlerContext context{config_,  *clock_, *registry_, *metrics_,     *server_metrics_,
                               *parser_, models_, *alerting_, ready_.load(), draining_.load()};
  return match.route->call(context, request, match.model);
}

}  // namespace modelmon::server
