// libFuzzer target for server::Service::Handle on untrusted requests.
//
// One Service (three models capturing their reference, alert rules, an admin token) lives for the
// whole run, so state built by earlier inputs is exercised by later ones. Input layout:
//   byte 0: bits 0-2 method, bits 3-5 Content-Type, bits 6-7 Authorization (tables below);
//   byte 1: bit 0 runs Evaluate() after the request, bits 1-4 pick a preset target (0: the target
//           is read from the input up to the first '\n');
//   rest:   the body.
// Invariants: Handle never throws, the status is in [200, 599], and every application/json body
// is valid JSON.

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "fuzz_common.h"
#include "modelmon/clock.h"
#include "server/service.h"

namespace modelmon::fuzz {
namespace {

// Time advances one second per call, so windows, joins and alert timers move without sleeping.
// Thread-safe (atomic).
class SteppingClock : public Clock {
 public:
  std::chrono::steady_clock::time_point Now() const override {
    return std::chrono::steady_clock::time_point(std::chrono::seconds(ticks_.fetch_add(1)));
  }
  double UnixSeconds() const override { return 1.8e9 + static_cast<double>(ticks_.load()); }

 private:
  mutable std::atomic<int64_t> ticks_{1000};
};

constexpr std::string_view kMethods[] = {"GET", "POST", "PUT", "HEAD", "DELETE", "POST", "PUT", ""};
constexpr std::string_view kContentTypes[] = {"",
                                              "application/json",
                                              "application/x-ndjson",
                                              "text/csv",
                                              "application/json; charset=utf-8",
                                              "application/jsonl",
                                              "text/plain",
                                              "TEXT/CSV; charset=UTF-8"};
constexpr std::string_view kAuthorizations[] = {"", "Bearer fuzz-admin-token-0123456789",
                                                "bearer fuzz-admin-token-0123456789",
                                                "Bearer fuzz-admin-token-012345678"};
constexpr std::string_view kTargets[] = {"",  // Read from the input.
                                         "/v1/predictions",
                                         "/v1/ground-truth",
                                         "/v1/models/binary/reference",
                                         "/v1/models/multi/reference",
                                         "/v1/models/reg/reference",
                                         "/v1/models/binary/reference/promote",
                                         "/v1/models/reg/reference/promote",
                                         "/v1/models",
                                         "/v1/models/binary",
                                         "/v1/models/multi",
                                         "/v1/models/reg?verbose=1",
                                         "/v1/alerts",
                                         "/metrics",
                                         "/healthz",
                                         "/readyz"};

server::Service& GetService() {
  static server::Service* service = [] {
    spdlog::set_level(spdlog::level::off);
    static const Config config = LoadHarnessConfig(kHarnessYaml);
    static SteppingClock clock;
    std::string error;
    std::unique_ptr<server::Service> created = server::Service::Create(config, &clock, &error);
    if (!created) {
      std::fprintf(stderr, "Service::Create: %s\n", error.c_str());
      Fail("the harness service does not start");
    }
    created->set_ready(true);
    return created.release();
  }();
  return *service;
}

bool IsJsonContentType(std::string_view content_type) {
  return content_type.substr(0, content_type.find(';')) == "application/json";
}

void Run(const uint8_t* data, size_t size) {
  if (size < 2) return;
  const uint8_t b0 = data[0];
  const uint8_t b1 = data[1];
  std::string_view rest(reinterpret_cast<const char*>(data + 2), size - 2);

  server::HttpRequest request;
  request.method = kMethods[b0 & 7u];
  request.content_type = kContentTypes[(b0 >> 3) & 7u];
  request.authorization = kAuthorizations[(b0 >> 6) & 3u];
  const size_t preset = (b1 >> 1) & 15u;
  if (preset == 0) {
    const size_t newline = rest.find('\n');
    request.target = rest.substr(0, newline);
    rest = newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);
  } else {
    request.target = kTargets[preset];
  }
  // The transport hands over a std::string body, never a null view: copy it the same way.
  const std::string body(rest);
  request.body = body;

  server::Service& service = GetService();
  const server::HttpResponse response = service.Handle(request);
  if (response.status < 200 || response.status > 599) Fail("status outside [200, 599]");
  if (IsJsonContentType(response.content_type) && !nlohmann::json::accept(response.body)) {
    std::fprintf(stderr, "body: %s\n", response.body.c_str());
    Fail("application/json response body is not valid JSON");
  }
  if ((b1 & 1u) != 0) service.Evaluate();
}

}  // namespace
}  // namespace modelmon::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return modelmon::fuzz::Guarded([&] { modelmon::fuzz::Run(data, size); },
                                 "Service::Handle or Evaluate threw");
}
