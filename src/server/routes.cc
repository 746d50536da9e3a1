#include "server/routes.h"

#include <array>
#include <utility>

#include "server/handlers.h"

namespace modelmon::server {
namespace {

constexpr std::array kRoutes = {
    Route{"POST", "/v1/predictions", Scope::kIngest, "predictions", HandlePredictions},
    Route{"POST", "/v1/ground-truth", Scope::kIngest, "ground_truth", HandleGroundTruth},
    Route{"POST", "/v1/discard", Scope::kIngest, "discard", HandleDiscard, true},
    Route{"GET", "/metrics", Scope::kRead, "metrics", HandleMetrics},
    Route{"GET", "/healthz", Scope::kHealth, "healthz", HandleHealthz},
    Route{"GET", "/readyz", Scope::kHealth, "readyz", HandleReadyz},
    Route{"GET", "/v1/alerts", Scope::kRead, "alerts", HandleAlerts},
    Route{"GET", "/v1/models", Scope::kRead, "models", HandleModels},
    Route{"GET", "/v1/models/{model}", Scope::kRead, "model", HandleModel},
    Route{"PUT", "/v1/models/{model}/reference", Scope::kAdmin, "reference", HandleReference},
    Route{"POST", "/v1/models/{model}/reference/promote", Scope::kAdmin, "promote", HandlePromote},
    Route{"", "/v1/models/{model}/...", Scope::kAdmin, "not_found", nullptr},
};

// The handler label of a request whose {model} segment names no configured model.
constexpr std::string_view kUnknownModelHandler = "model";

// Yields the non-empty '/'-separated segments of a path.
class Segments {
 public:
  explicit Segments(std::string_view path) : rest_(path) {}

  // False once no segment is left.
  bool Next(std::string_view* segment) {
    size_t start = 0;
    while (start < rest_.size() && rest_[start] == '/') ++start;
    if (start == rest_.size()) return false;
    size_t end = rest_.find('/', start);
    if (end == std::string_view::npos) end = rest_.size();
    *segment = rest_.substr(start, end - start);
    rest_ = rest_.substr(end);
    return true;
  }

 private:
  std::string_view rest_;
};

std::string_view PathOf(std::string_view target) { return target.substr(0, target.find('?')); }

// True when `path` matches `pattern`; *model receives the segment at the {model} placeholder
// ("" when the pattern has none).
bool PatternMatches(std::string_view pattern, std::string_view path, std::string_view* model) {
  *model = {};
  Segments want(pattern);
  Segments have(path);
  std::string_view w;
  std::string_view h;
  while (want.Next(&w)) {
    if (!have.Next(&h)) return false;
    if (w == "...") return true;
    if (w.front() == '{') {
      *model = h;
    } else if (w != h) {
      return false;
    }
  }
  return !have.Next(&h);
}

bool MethodMatches(std::string_view route_method, std::string_view method) {
  if (route_method == method) return true;
  return route_method == "GET" && method == "HEAD";
}

bool Routed(const Route& route, bool bench_routes) {
  return route.call != nullptr && (bench_routes || !route.bench_only);
}

}  // namespace

std::span<const Route> Routes() { return kRoutes; }

Scope ScopeOf(std::string_view target) {
  const std::string_view path = PathOf(target);
  std::string_view model;
  for (const Route& route : kRoutes) {
    if (PatternMatches(route.pattern, path, &model)) return route.scope;
  }
  return Scope::kRead;
}

std::string AllowedMethods(std::string_view target, bool bench_routes) {
  const std::string_view path = PathOf(target);
  std::string allow;
  std::string_view model;
  for (const Route& route : kRoutes) {
    if (!Routed(route, bench_routes) || !PatternMatches(route.pattern, path, &model)) continue;
    if (!allow.empty()) allow += ", ";
    allow += route.method;
    if (route.method == "GET") allow += ", HEAD";  // Every GET route answers HEAD too.
  }
  return allow;
}

Router::Router(bool bench_routes, ModelLookup lookup)
    : bench_routes_(bench_routes), lookup_(std::move(lookup)) {}

RouteMatch Router::Match(std::string_view method, std::string_view target) const {
  const std::string_view path = PathOf(target);
  RouteMatch match;
  bool scoped = false;
  for (const Route& route : kRoutes) {
    std::string_view model;
    if (!PatternMatches(route.pattern, path, &model)) continue;
    if (!scoped) {
      match.scope = route.scope;
      scoped = true;
    }
    if (route.bench_only && !bench_routes_) continue;
    if (!model.empty()) {  // A placeholder always captures a non-empty segment.
      const std::optional<size_t> index = lookup_(model);
      if (!index) {
        match.kind = RouteMatch::Kind::kUnknownModel;
        match.route = nullptr;
        match.handler = kUnknownModelHandler;
        match.model_name = model;
        return match;
      }
      match.model = *index;
      match.model_name = model;
    }
    if (route.call == nullptr) break;
    if (MethodMatches(route.method, method)) {
      match.kind = RouteMatch::Kind::kFound;
      match.route = &route;
      match.handler = route.handler;
      return match;
    }
    if (match.route == nullptr) {
      match.kind = RouteMatch::Kind::kMethodNotAllowed;
      match.route = &route;
      match.handler = route.handler;
    }
  }
  return match;
}

}  // namespace modelmon::server
