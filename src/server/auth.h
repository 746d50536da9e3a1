#ifndef MODELMON_SERVER_AUTH_H_
#define MODELMON_SERVER_AUTH_H_

#include <string>
#include <string_view>

#include "modelmon/config.h"
#include "server/http_message.h"

namespace modelmon::server {

// Which token guards an endpoint, and how a drain treats it: ingest and admin requests are refused
// once a drain begins, read and health requests are served until the listener closes.
enum class Scope { kHealth, kRead, kIngest, kAdmin };

// "health", "read", "ingest" or "admin": the `scope` label of modelmon_auth_failures_total.
std::string_view ScopeName(Scope scope);

// The token configured for `scope` (server.read_token, ingest_token, admin_token); empty when the
// scope is open. kHealth is always open. The reference lives as long as `config`.
const std::string& TokenFor(const ServerConfig& config, Scope scope);

// Compares without an early exit, so the time taken does not reveal how much of a guess matched.
// O(max(a.size(), b.size())).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// True when `token` is empty (open), or `authorization` (an Authorization header value, "" when
// absent) is "Bearer <token>" with the scheme in any case. Never throws.
bool BearerAuthorized(std::string_view authorization, std::string_view token);

// The 401 answer for `scope`: {"error": "missing or wrong bearer token for <scope> endpoints"} with
// WWW-Authenticate: Bearer realm="modelmon".
HttpResponse Unauthorized(Scope scope);

}  // namespace modelmon::server

#endif  // MODELMON_SERVER_AUTH_H_
