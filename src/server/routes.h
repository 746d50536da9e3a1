#ifndef MODELMON_SERVER_ROUTES_H_
#define MODELMON_SERVER_ROUTES_H_

#include <cstddef>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "server/auth.h"
#include "server/http_message.h"

namespace modelmon::server {

struct HandlerContext;

// Answers a routed request; `model` is the index of the {model} placeholder's model (0 for routes
// without one). Never throws on request data.
using HandlerFn = HttpResponse (*)(const HandlerContext& context, const HttpRequest& request,
                                   size_t model);

// One endpoint. A pattern is a path of literal segments, at most one "{model}" placeholder, and an
// optional final "..." matching one or more further segments. A route without a handler matches
// its paths for the scope and the unknown-model check only, and answers "no such endpoint".
struct Route {
  std::string_view method;   // "GET" routes answer HEAD too.
  std::string_view pattern;  // e.g. "/v1/models/{model}/reference".
  Scope scope;
  std::string_view handler;  // The `handler` label of modelmon_http_requests_total.
  HandlerFn call;            // Null for a scope-only route.
  bool bench_only = false;   // Routed only with server.bench_discard_endpoint.
};

// The daemon's endpoints, in match order.
std::span<const Route> Routes();

// The scope of a request target (path and query) by path alone: that of the first route whose
// pattern matches (bench-only routes included), else kRead. The query string is ignored and empty
// segments ("//", a trailing "/") are skipped. Allocation-free; O(routes * segments).
Scope ScopeOf(std::string_view target);

// The methods the routes of `target`'s path accept, in table order, joined by ", " (the Allow
// header of a 405); a GET route contributes "GET, HEAD" (RFC 9110 section 10.2.1 lists every
// method the resource supports). Empty when no routed path matches.
std::string AllowedMethods(std::string_view target, bool bench_routes);

// The outcome of routing one request.
struct RouteMatch {
  enum class Kind {
    kFound,             // route accepts the method.
    kMethodNotAllowed,  // route matches the path, not the method.
    kUnknownModel,      // The {model} segment names no configured model.
    kNotFound,
  };
  Kind kind = Kind::kNotFound;
  const Route* route = nullptr;            // Set for kFound and kMethodNotAllowed.
  Scope scope = Scope::kRead;              // ScopeOf(target).
  std::string_view handler = "not_found";  // The handler label; "model" for kUnknownModel.
  std::string_view model_name;             // The {model} segment; a view into the target.
  size_t model = 0;                        // Its index, for kFound and kMethodNotAllowed.
};

// Matches requests against Routes(). Thread-safe (immutable after construction).
class Router {
 public:
  // Resolves a {model} segment to a model index, nullopt when unknown; must be thread-safe.
  using ModelLookup = std::function<std::optional<size_t>(std::string_view name)>;

  Router(bool bench_routes, ModelLookup lookup);

  // Allocation-free apart from what `lookup` does. Views in the result point into `target` or
  // the static table.
  RouteMatch Match(std::string_view method, std::string_view target) const;
  bool bench_routes() const { return bench_routes_; }

 private:
  const bool bench_routes_;
  const ModelLookup lookup_;
};

}  // namespace modelmon::server

#endif  // MODELMON_SERVER_ROUTES_H_
