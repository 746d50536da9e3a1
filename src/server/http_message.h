#ifndef MODELMON_SERVER_HTTP_MESSAGE_H_
#define MODELMON_SERVER_HTTP_MESSAGE_H_

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace modelmon::server {

// A request as the transport hands it over, independent of the HTTP library. Views are valid for
// the duration of Service::Handle().
struct HttpRequest {
  std::string_view method;
  std::string_view target;  // Path and query.
  std::string_view content_type;
  std::string_view authorization;  // The Authorization header, "" when absent.
  std::string_view body;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// `body` serialised compactly with a trailing newline; invalid UTF-8 is replaced, never thrown.
HttpResponse JsonResponse(int status, const nlohmann::json& body);

// A JSON error body {"error": message}.
HttpResponse ErrorResponse(int status, std::string_view message);

}  // namespace modelmon::server

#endif  // MODELMON_SERVER_HTTP_MESSAGE_H_
