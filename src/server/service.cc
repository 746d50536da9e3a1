#include "server/service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "state/reference_data.h"
#include "state/snapshot.h"

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

HttpResponse JsonResponse(int status, const json& body) {
  HttpResponse r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  r.body += '\n';
  return r;
}

json Finite(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json ColumnJson(const state::ColumnResult& c) {
  json j;
  j["name"] = c.name;
  j["type"] = FeatureTypeName(c.type);
  if (c.is_prediction) j["pseudo_feature"] = true;
  j["status"] = c.status;
  j["window_samples"] = c.window_samples;
  j["reference_samples"] = c.reference_samples;
  j["drift_detected"] = c.drifted;
  json tests = json::array();
  for (const auto& t : c.tests) {
    json tj{{"test", t.test},
            {"statistic", Finite(t.statistic)},
            {"threshold", t.threshold},
            {"drift_detected", t.detected}};
    if (t.p_value) tj["p_value"] = Finite(*t.p_value);
    tests.push_back(std::move(tj));
  }
  j["tests"] = std::move(tests);
  json quality{{"missing_ratio", c.missing_ratio}};
  if (c.type == FeatureType::kNumerical) {
    quality["out_of_range_ratio"] = c.out_of_range_ratio;
  } else {
    quality["unseen_category_ratio"] = c.unseen_ratio;
  }
  j["data_quality"] = std::move(quality);
  if (c.summary) {
    j["summary"] = {{"mean", Finite(c.summary->mean)},
                    {"stddev", Finite(c.summary->stddev)},
                    {"min", Finite(c.summary->min)},
                    {"median", Finite(c.summary->median)},
                    {"max", Finite(c.summary->max)}};
  }
  return j;
}

json PerformanceJson(const state::PerformanceResult& r, const std::vector<std::string>& classes) {
  json j{{"model_version", r.model_version}, {"samples", r.samples}};
  if (r.samples == 0) return j;
  if (r.classification) {
    const auto& c = *r.classification;
    j["accuracy"] = c.accuracy;
    j["precision"] = c.precision;
    j["recall"] = c.recall;
    j["f1"] = c.f1;
    j["macro"] = {{"precision", c.macro_precision}, {"recall", c.macro_recall}, {"f1", c.macro_f1}};
    j["micro"] = {{"precision", c.micro_precision}, {"recall", c.micro_recall}, {"f1", c.micro_f1}};
    j["weighted"] = {
        {"precision", c.weighted_precision}, {"recall", c.weighted_recall}, {"f1", c.weighted_f1}};
    json per_class = json::object();
    for (size_t k = 0; k < classes.size() && k < c.per_class.size(); ++k) {
      per_class[classes[k]] = {{"precision", c.per_class[k].precision},
                               {"recall", c.per_class[k].recall},
                               {"f1", c.per_class[k].f1},
                               {"support", c.per_class[k].support}};
    }
    j["classes"] = std::move(per_class);
    j["confusion_matrix"] = c.confusion;
    if (c.roc_auc) {
      j["roc_auc"] = Finite(*c.roc_auc);
    } else {
      j["roc_auc_unavailable"] = c.roc_auc_unavailable;
    }
    if (c.log_loss) {
      j["log_loss"] = Finite(*c.log_loss);
    } else {
      j["log_loss_unavailable"] = c.log_loss_unavailable;
    }
    j["predicted_positive_rate"] = c.predicted_positive_rate;
    j["label_positive_rate"] = c.label_positive_rate;
  } else if (r.regression) {
    const auto& g = *r.regression;
    j["mae"] = g.mae;
    j["mse"] = g.mse;
    j["rmse"] = g.rmse;
    j["r2"] = g.r2 ? Finite(*g.r2) : json(nullptr);
    j["mape"] = Finite(g.mape);
    j["mean_error"] = g.mean_error;
  }
  return j;
}

json StatusJson(const state::ModelStatus& s, bool with_columns,
                const std::vector<std::string>& classes) {
  json j{{"name", s.name},
         {"task", s.task},
         {"window", {{"events", s.window_events}, {"capacity", s.window_capacity}}},
         {"reference", {{"state", s.reference_state}, {"rows", s.reference_rows}}}};
  if (s.capture_target > 0) j["reference"]["capture_target"] = s.capture_target;
  json drift{{"features_evaluated", s.features_evaluated},
             {"features_drifted", s.features_drifted},
             {"dataset_drift_detected", s.dataset_drift}};
  if (s.evaluated_at > 0) drift["evaluated_at"] = s.evaluated_at;
  if (with_columns) {
    json columns = json::array();
    for (const auto& c : s.columns) columns.push_back(ColumnJson(c));
    drift["features"] = std::move(columns);
  }
  j["drift"] = std::move(drift);
  json perf{{"pending_predictions", s.pending_predictions}, {"pending_labels", s.pending_labels}};
  if (with_columns) {
    json windows = json::array();
    for (const auto& r : s.performance) windows.push_back(PerformanceJson(r, classes));
    perf["windows"] = std::move(windows);
    if (!s.baseline.empty()) perf["baseline"] = s.baseline;
    if (s.experiment) {
      const auto& e = *s.experiment;
      json ej{{"metric", e.metric}, {"control", e.control}, {"challenger", e.challenger}};
      if (e.unavailable.empty()) {
        ej["difference"] = Finite(e.difference);
        if (e.p_value) ej["p_value"] = Finite(*e.p_value);
      } else {
        ej["unavailable"] = e.unavailable;
      }
      perf["experiment"] = std::move(ej);
    }
  }
  j["performance"] = std::move(perf);
  return j;
}

// Splits "/v1/models/fraud/reference" into segments; the query string is ignored.
std::vector<std::string_view> PathSegments(std::string_view target) {
  target = target.substr(0, target.find('?'));
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos < target.size()) {
    if (target[pos] == '/') {
      ++pos;
      continue;
    }
    size_t end = target.find('/', pos);
    if (end == std::string_view::npos) end = target.size();
    out.push_back(target.substr(pos, end - pos));
    pos = end;
  }
  return out;
}

// Compares without an early exit, so the time taken does not reveal how much of a guess matched.
bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  unsigned diff = a.size() == b.size() ? 0u : 1u;
  const size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const auto x = static_cast<unsigned char>(i < a.size() ? a[i] : 0);
    const auto y = static_cast<unsigned char>(i < b.size() ? b[i] : 0);
    diff |= static_cast<unsigned>(x ^ y);
  }
  return diff == 0;
}

// True when `token` is empty (open) or the request carries "Authorization: Bearer <token>".
bool Authorized(const HttpRequest& request, const std::string& token) {
  if (token.empty()) return true;
  constexpr std::string_view kBearer = "Bearer ";
  std::string_view header = request.authorization;
  if (header.size() < kBearer.size()) return false;
  for (size_t i = 0; i < kBearer.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(header[i])) !=
        std::tolower(static_cast<unsigned char>(kBearer[i]))) {
      return false;
    }
  }
  return ConstantTimeEquals(header.substr(kBearer.size()), token);
}

// The scope of a path already split by PathSegments().
Scope ScopeOfSegments(const std::vector<std::string_view>& segments) {
  if (segments.size() == 1 && (segments[0] == "healthz" || segments[0] == "readyz")) {
    return Scope::kHealth;
  }
  const bool v1 = !segments.empty() && segments[0] == "v1";
  if (v1 && segments.size() == 2 &&
      (segments[1] == "predictions" || segments[1] == "ground-truth" || segments[1] == "discard")) {
    return Scope::kIngest;
  }
  if (v1 && segments.size() >= 4 && segments[1] == "models") return Scope::kAdmin;
  return Scope::kRead;
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

HttpResponse MethodNotAllowed(const char* allow) {
  HttpResponse r = ErrorResponse(405, std::string("method not allowed; use ") + allow);
  r.headers.emplace_back("Allow", allow);
  return r;
}

}  // namespace

HttpResponse ErrorResponse(int status, std::string_view message) {
  return JsonResponse(status, json{{"error", std::string(message)}});
}

Scope ScopeOf(std::string_view target) { return ScopeOfSegments(PathSegments(target)); }

Service::Service(const Config& config, const Clock* clock)
    : config_(config),
      clock_(clock),
      registry_(std::make_unique<metrics::Registry>()),
      metrics_(std::make_unique<state::DaemonMetrics>(*registry_)) {
  inflight_requests_ =
      registry_
          ->AddGauge("modelmon_inflight_requests",
                     "Requests with a body or to ingest/admin endpoints admitted and not answered.")
          .With({});
  inflight_bytes_ = registry_
                        ->AddGauge("modelmon_inflight_bytes",
                                   "Request body bytes reserved by admitted requests in flight.")
                        .With({});
  tls_failures_ = registry_->AddCounter("modelmon_tls_handshake_failures_total",
                                        "TLS handshakes that failed, by reason.");
  // Known up front: export at zero so rate() works from the start.
  for (const char* limit :
       {"body_bytes", "header_bytes", "batch_events", "request_timeout", "connections",
        "malformed_request", "inflight_requests", "inflight_bytes", "draining"}) {
    metrics_->limit_hits.With({{"limit", limit}}).Inc(0);
  }
  if (config.server.tls.enabled()) {
    for (const char* reason : {"timeout", "plain_http", "eof", "protocol"}) {
      tls_failures_.With({{"reason", reason}}).Inc(0);
    }
  }
}

Service::~Service() = default;

std::unique_ptr<Service> Service::Create(const Config& config, const Clock* clock,
                                         std::string* error) {
  std::unique_ptr<Service> service(new Service(config, clock));
  std::vector<std::shared_ptr<const ingest::ModelSchema>> schemas;
  for (const ModelConfig& m : config.models) {
    schemas.push_back(std::make_shared<const ingest::ModelSchema>(m));
  }
  service->parser_ = std::make_unique<ingest::EventParser>(schemas);
  service->alerting_ = std::make_unique<state::Alerting>(config.alerts, service->metrics_.get());
  service->notifier_ = Notifier::Create(
      config.notify, config.server.listen_address + ":" + std::to_string(config.server.port),
      *service->registry_, clock);
  for (size_t i = 0; i < schemas.size(); ++i) {
    auto model = std::make_unique<state::ModelState>(schemas[i], service->metrics_.get(), clock);
    const std::string& file = config.models[i].reference.file;
    if (!file.empty()) {
      std::filesystem::path path(file);
      if (path.is_relative() && !config.source_path.empty()) {
        path = std::filesystem::path(config.source_path).parent_path() / path;
      }
      state::ReferenceLoad load = state::LoadReferenceFile(path.string(), *service->parser_, i);
      if (!load.data) {
        *error = "models[" + std::to_string(i) + "].reference.file: " + load.error;
        return nullptr;
      }
      model->SetReference(std::move(*load.data), "file");
    }
    service->models_.push_back(std::move(model));
  }
  if (!config.state.snapshot_path.empty()) {
    std::filesystem::path path(config.state.snapshot_path);
    if (path.is_relative() && !config.source_path.empty()) {
      path = std::filesystem::path(config.source_path).parent_path() / path;
    }
    service->snapshot_path_ = path.string();
    service->metrics_->snapshot_writes.With({}).Inc(0);
    service->metrics_->snapshot_write_failures.With({}).Inc(0);
    service->RestoreSnapshot();
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

void Service::RestoreSnapshot() {
  // Far above any real snapshot (a 1M-event window of 100 features is ~800 MB).
  constexpr size_t kMaxSnapshotBytes = size_t{4} << 30;
  const std::string& path = snapshot_path_;
  bool missing = false;
  std::string error;
  std::optional<std::string> bytes =
      state::ReadSnapshotFile(path, kMaxSnapshotBytes, &missing, &error);
  if (!bytes) {
    if (missing) {
      spdlog::info("no state snapshot at {}: starting clean", path);
    } else {
      spdlog::error("cannot read the state snapshot ({}): starting clean", error);
      metrics_->snapshot_restore_failures.With({{"reason", "io"}}).Inc();
    }
    return;
  }
  const auto started = std::chrono::steady_clock::now();
  state::DecodeResult decoded = state::DecodeSnapshot(*bytes);
  bytes.reset();
  if (!decoded.snapshot) {
    const char* reason = state::DecodeErrorName(decoded.error);
    std::string aside = path;
    aside += ".corrupt-";
    aside += std::to_string(static_cast<int64_t>(clock_->UnixSeconds()));
    std::error_code ec;
    std::filesystem::rename(path, aside, ec);
    spdlog::error("state snapshot {} not restored ({}: {}); {}; starting clean", path, reason,
                  decoded.message,
                  ec ? "could not set it aside: " + ec.message() : "moved to " + aside);
    metrics_->snapshot_restore_failures.With({{"reason", reason}}).Inc();
    return;
  }
  const state::Snapshot& snapshot = *decoded.snapshot;
  // Time that passed while the daemon was down counts towards every age.
  const double down_seconds = std::clamp(clock_->UnixSeconds() - snapshot.wall_time, 0.0, 3.0e9);
  const auto downtime = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::duration<double>(down_seconds));
  std::set<std::string> restored;
  size_t events = 0;
  for (const state::ModelSnapshot& m : snapshot.models) {
    const auto index = parser_->ModelIndex(m.name);
    if (!index) {
      spdlog::info("state snapshot: model {} is no longer configured; skipped", m.name);
      continue;
    }
    if (m.fingerprint != state::ModelFingerprint(models_[*index]->schema())) {
      spdlog::warn(
          "state snapshot: model {} changed incompatibly (task, classes, features, window size, "
          "psi_bins or max_categories); it starts clean",
          m.name);
      metrics_->snapshot_restore_failures.With({{"reason", "config_changed"}}).Inc();
      continue;
    }
    const size_t n = models_[*index]->ImportSnapshot(m, downtime);
    metrics_->snapshot_restored_events.With({{"model", m.name}}).Set(static_cast<double>(n));
    events += n;
    restored.insert(m.name);
  }
  const size_t alerts = alerting_->Import(snapshot.alerts, clock_->Now(), downtime);
  size_t counters = 0;
  for (const state::CounterSnapshot& c : snapshot.counters) {
    auto model = c.labels.find("model");
    if (model != c.labels.end() && restored.count(model->second) == 0) continue;
    if (registry_->RaiseCounter(c.name, c.labels, c.value)) ++counters;
  }
  spdlog::info(
      "restored state snapshot {} taken at {:.3f} ({:.1f}s ago): {} model(s), {} window event(s), "
      "{} alert(s), {} counter series, in {:.1f} ms",
      path, snapshot.wall_time, down_seconds, restored.size(), events, alerts, counters,
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
          .count());
}

bool Service::WriteSnapshot() {
  if (snapshot_path_.empty()) return true;
  std::lock_guard<std::mutex> lock(snapshot_mu_);
  const auto started = std::chrono::steady_clock::now();
  state::Snapshot snapshot;
  const auto now = clock_->Now();
  snapshot.wall_time = clock_->UnixSeconds();
  for (const auto& model : models_) snapshot.models.push_back(model->ExportSnapshot(now));
  snapshot.alerts = alerting_->Export(now);
  for (metrics::Registry::CounterValue& c : registry_->Counters("modelmon_")) {
    snapshot.counters.push_back({std::move(c.name), std::move(c.labels), c.value});
  }
  const auto copied = std::chrono::steady_clock::now();
  const std::string bytes = state::EncodeSnapshot(snapshot);
  const auto encoded = std::chrono::steady_clock::now();
  std::string error;
  const bool written = state::WriteFileAtomically(snapshot_path_, bytes, &error);
  const auto done = std::chrono::steady_clock::now();
  using Ms = std::chrono::duration<double, std::milli>;
  spdlog::debug("state snapshot: {} bytes; copy {:.1f} ms, encode {:.1f} ms, write {:.1f} ms",
                bytes.size(), Ms(copied - started).count(), Ms(encoded - copied).count(),
                Ms(done - encoded).count());
  if (!written) {
    metrics_->snapshot_write_failures.With({}).Inc();
    // Logged once per run of failures, not at every interval.
    if (!snapshot_failing_) spdlog::error("state snapshot not written: {}", error);
    snapshot_failing_ = true;
    return false;
  }
  if (snapshot_failing_) spdlog::info("state snapshot written again to {}", snapshot_path_);
  snapshot_failing_ = false;
  metrics_->snapshot_writes.With({}).Inc();
  metrics_->snapshot_bytes.With({}).Set(static_cast<double>(bytes.size()));
  metrics_->snapshot_last_write.With({}).Set(snapshot.wall_time);
  return true;
}

void Service::CountLimitHit(const char* limit) {
  metrics_->limit_hits.With({{"limit", limit}}).Inc();
}

void Service::SetInflight(size_t requests, size_t bytes) {
  inflight_requests_.Set(static_cast<double>(requests));
  inflight_bytes_.Set(static_cast<double>(bytes));
}

void Service::CountTlsHandshakeFailure(const char* reason) {
  tls_failures_.With({{"reason", reason}}).Inc();
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
  std::string handler = "other";
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
  const RequestSeries& series = RequestSeriesFor(handler, response.status);
  series.duration.Observe(seconds);
  series.requests.Inc();
  return response;
}

const Service::RequestSeries& Service::RequestSeriesFor(const std::string& handler, int status) {
  std::lock_guard<std::mutex> lock(request_series_mu_);
  auto key = std::make_pair(handler, status);
  auto it = request_series_.find(key);
  if (it == request_series_.end()) {
    RequestSeries series{
        metrics_->http_requests.With({{"handler", handler}, {"code", std::to_string(status)}}),
        metrics_->http_duration.With({{"handler", handler}})};
    it = request_series_.emplace(std::move(key), series).first;
  }
  return it->second;
}

HttpResponse Service::Route(const HttpRequest& request, std::string* handler) {
  const auto segments = PathSegments(request.target);
  const std::string_view method = request.method;
  const bool get = method == "GET" || method == "HEAD";
  // Authentication by scope; the health endpoints stay open for probes.
  const Scope request_scope = ScopeOfSegments(segments);
  if (request_scope != Scope::kHealth) {
    const bool ingest = request_scope == Scope::kIngest;
    const bool admin = request_scope == Scope::kAdmin;
    const char* scope = ingest ? "ingest" : admin ? "admin" : "read";
    const std::string& token = ingest  ? config_.server.ingest_token
                               : admin ? config_.server.admin_token
                                       : config_.server.read_token;
    if (!Authorized(request, token)) {
      *handler = "unauthorized";
      metrics_->auth_failures.With({{"scope", scope}}).Inc();
      HttpResponse r = ErrorResponse(
          401, std::string("missing or wrong bearer token for ") + scope + " endpoints");
      r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"modelmon\"");
      return r;
    }
  }
  if (segments.size() == 1 && segments[0] == "metrics") {
    *handler = "metrics";
    if (!get) return MethodNotAllowed("GET");
    HttpResponse r;
    r.content_type = metrics::kTextContentType;
    r.body = registry_->Serialize();
    return r;
  }
  if (segments.size() == 1 && segments[0] == "healthz") {
    *handler = "healthz";
    if (!get) return MethodNotAllowed("GET");
    return JsonResponse(200, json{{"status", "ok"}});
  }
  if (segments.size() == 1 && segments[0] == "readyz") {
    *handler = "readyz";
    if (!get) return MethodNotAllowed("GET");
    if (ready()) return JsonResponse(200, json{{"status", "ready"}});
    return JsonResponse(503, json{{"status", draining_.load() ? "draining" : "not ready"}});
  }
  if (segments.size() == 2 && segments[0] == "v1" &&
      (segments[1] == "predictions" || segments[1] == "ground-truth")) {
    const bool predictions = segments[1] == "predictions";
    *handler = predictions ? "predictions" : "ground_truth";
    if (method != "POST") return MethodNotAllowed("POST");
    return Ingest(request, predictions);
  }
  if (config_.server.bench_discard_endpoint && segments.size() == 2 && segments[0] == "v1" &&
      segments[1] == "discard") {
    *handler = "discard";
    if (method != "POST") return MethodNotAllowed("POST");
    return Discard(request);
  }
  if (segments.size() == 2 && segments[0] == "v1" && segments[1] == "alerts") {
    *handler = "alerts";
    if (!get) return MethodNotAllowed("GET");
    return AlertList();
  }
  if (segments.size() >= 2 && segments[0] == "v1" && segments[1] == "models") {
    if (segments.size() == 2) {
      *handler = "models";
      if (!get) return MethodNotAllowed("GET");
      return ModelList();
    }
    *handler = "model";
    auto model = parser_->ModelIndex(segments[2]);
    if (!model) {
      return ErrorResponse(404, "unknown model \"" + std::string(segments[2].substr(0, 64)) + "\"");
    }
    if (segments.size() == 3) {
      if (!get) return MethodNotAllowed("GET");
      return ModelStatusResponse(*model);
    }
    if (segments.size() == 4 && segments[3] == "reference") {
      *handler = "reference";
      if (method != "PUT") return MethodNotAllowed("PUT");
      return PutReference(request, *model);
    }
    if (segments.size() == 5 && segments[3] == "reference" && segments[4] == "promote") {
      *handler = "promote";
      if (method != "POST") return MethodNotAllowed("POST");
      return Promote(*model);
    }
  }
  *handler = "not_found";
  return ErrorResponse(404,
                       "no such endpoint; see GET /v1/models, POST /v1/predictions, "
                       "POST /v1/ground-truth, GET /metrics");
}

HttpResponse Service::Ingest(const HttpRequest& request, bool predictions) {
  const char* kind = predictions ? "prediction" : "ground_truth";
  auto format = BodyFormatOf(request.content_type);
  if (!format) {
    metrics_->rejected.With({{"kind", kind}, {"reason", "unsupported_media_type"}}).Inc();
    return ErrorResponse(415,
                         "unsupported Content-Type; use application/json or "
                         "application/x-ndjson");
  }
  auto respond = [&](auto& batch, auto&& apply) -> HttpResponse {
    if (batch.body_error) {
      const char* reason = batch.too_many_events ? "too_many_events" : "invalid_body";
      metrics_->rejected.With({{"kind", kind}, {"reason", reason}}).Inc();
      if (batch.too_many_events) CountLimitHit("batch_events");
      return ErrorResponse(batch.too_many_events ? 413 : 400, *batch.body_error);
    }
    const size_t accepted = batch.events.size();
    apply(batch.events);
    if (batch.errors.empty()) return AllAcceptedResponse(accepted);
    json errors = json::array();
    for (const auto& e : batch.errors) {
      metrics_->rejected.With({{"kind", kind}, {"reason", ingest::RejectReasonName(e.reason)}})
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
  auto dispatch = [this](auto& events, auto add) {
    if (models_.size() == 1) {
      add(*models_[0], events);
      return;
    }
    std::vector<std::remove_reference_t<decltype(events)>> by_model(models_.size());
    for (auto& ev : events) by_model[ev.model].push_back(std::move(ev));
    for (size_t m = 0; m < models_.size(); ++m) add(*models_[m], by_model[m]);
  };
  const size_t max_events = config_.server.max_batch_events;
  if (predictions) {
    auto batch = parser_->ParsePredictions(request.body, *format, max_events);
    return respond(batch, [&](std::vector<ingest::PredictionEvent>& events) {
      dispatch(events, [](state::ModelState& m, auto& e) { m.AddPredictions(e); });
    });
  }
  auto batch = parser_->ParseGroundTruth(request.body, *format, max_events);
  return respond(batch, [&](std::vector<ingest::GroundTruthEvent>& events) {
    dispatch(events, [](state::ModelState& m, auto& e) { m.AddGroundTruth(e); });
  });
}

HttpResponse Service::Discard(const HttpRequest& request) {
  // Built like the ingest answer so that both cost the same to serialise and send.
  return AllAcceptedResponse(0, request.body.size());
}

HttpResponse Service::AlertList() const {
  const auto steady_now = clock_->Now();
  const double unix_now = clock_->UnixSeconds();
  auto unix_time = [&](std::chrono::steady_clock::time_point t) {
    return unix_now - std::chrono::duration<double>(steady_now - t).count();
  };
  json list = json::array();
  for (const alerts::AlertInstance& a : alerting_->Active()) {
    json j{{"alertname", a.rule},
           {"state", alerts::StateName(a.state)},
           {"labels", a.labels},
           {"annotations", a.annotations},
           {"value", Finite(a.last_value)},
           {"active_since", unix_time(a.active_since)}};
    if (a.state == alerts::State::kFiring) j["firing_since"] = unix_time(a.fired_at);
    list.push_back(std::move(j));
  }
  return JsonResponse(200, json{{"alerts", list}});
}

HttpResponse Service::ModelList() const {
  json models = json::array();
  for (const auto& m : models_) {
    models.push_back(StatusJson(m->Status(), false, m->schema().config().classes));
  }
  return JsonResponse(200, json{{"models", models}});
}

HttpResponse Service::ModelStatusResponse(size_t model) const {
  return JsonResponse(
      200, StatusJson(models_[model]->Status(), true, models_[model]->schema().config().classes));
}

HttpResponse Service::PutReference(const HttpRequest& request, size_t model) {
  state::ReferenceFormat format;
  if (ContentTypeIs(request.content_type, "text/csv")) {
    format = state::ReferenceFormat::kCsv;
  } else if (BodyFormatOf(request.content_type)) {
    format = state::ReferenceFormat::kJsonLines;
  } else {
    return ErrorResponse(415, "unsupported Content-Type; use text/csv or application/x-ndjson");
  }
  state::ReferenceLoad load = state::ParseReference(request.body, format, *parser_, model);
  if (!load.data) return ErrorResponse(400, load.error);
  const size_t rows = load.data->rows();
  if (rows == 0) return ErrorResponse(400, "the reference has no rows");
  models_[model]->SetReference(std::move(*load.data), "upload");
  return JsonResponse(200, json{{"reference_rows", rows}});
}

HttpResponse Service::Promote(size_t model) {
  std::string error;
  if (!models_[model]->PromoteWindow(&error)) return ErrorResponse(409, error);
  return JsonResponse(200, json{{"promoted", true}});
}

}  // namespace modelmon::server
