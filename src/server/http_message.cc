#include "server/http_message.h"

#include <nlohmann/json.hpp>

namespace modelmon::server {

HttpResponse JsonResponse(int status, const nlohmann::json& body) {
  HttpResponse r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  r.body += '\n';
  return r;
}

HttpResponse ErrorResponse(int status, std::string_view message) {
  return JsonResponse(status, nlohmann::json{{"error", std::string(message)}});
}

}  // namespace modelmon::server
