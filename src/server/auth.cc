#include "server/auth.h"

#include <algorithm>
#include <cctype>

namespace modelmon::server {

std::string_view ScopeName(Scope scope) {
  switch (scope) {
    case Scope::kHealth:
      return "health";
    case Scope::kRead:
      return "read";
    case Scope::kIngest:
      return "ingest";
    case Scope::kAdmin:
      return "admin";
  }
  return "read";
}

const std::string& TokenFor(const ServerConfig& config, Scope scope) {
  static const std::string kOpen;
  switch (scope) {
    case Scope::kHealth:
      return kOpen;
    case Scope::kRead:
      return config.read_token;
    case Scope::kIngest:
      return config.ingest_token;
    case Scope::kAdmin:
      return config.admin_token;
  }
  return kOpen;
}

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

bool BearerAuthorized(std::string_view authorization, std::string_view token) {
  if (token.empty()) return true;
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() < kBearer.size()) return false;
  for (size_t i = 0; i < kBearer.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) !=
        std::tolower(static_cast<unsigned char>(kBearer[i]))) {
      return false;
    }
  }
  return ConstantTimeEquals(authorization.substr(kBearer.size()), token);
}

HttpResponse Unauthorized(Scope scope) {
  HttpResponse r = ErrorResponse(
      401, "missing or wrong bearer token for " + std::string(ScopeName(scope)) + " endpoints");
  r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"modelmon\"");
  return r;
}

}  // namespace modelmon::server
