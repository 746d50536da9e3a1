// libFuzzer target for restoring a state snapshot: decoding, validation and import.
//
// The input is a snapshot payload (the sections after the 24-byte header). The harness wraps it in
// a valid header (magic, format version, payload length, CRC-32C), so every input reaches the
// content checks rather than stopping at the checksum, writes it as the snapshot file and starts a
// fresh server::Service from the fixed harness config (three models, two alert rules), which
// restores it. Then it runs an evaluation, serves /metrics and the JSON views, and writes a
// snapshot of the restored state.
// Invariants: nothing throws; the service always starts (a bad snapshot is set aside, never fatal);
// /metrics answers 200 with valid UTF-8; every JSON body is valid JSON; the snapshot written
// after the restore decodes and validates.
//
// Seeds: with MODELMON_SNAPSHOT_SEEDS=DIR set, the binary first drives a service through ingest,
// joins, evaluations and a promotion, and writes the payload of each snapshot it takes to DIR
// (fuzz/corpus/snapshot/ was made that way).

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <system_error>

#include "common/checksum.h"
#include "fuzz_common.h"
#include "modelmon/clock.h"
#include "server/service.h"
#include "state/snapshot.h"
#include "state/snapshot_file.h"
#include "state/snapshot_validation.h"

namespace modelmon::fuzz {
namespace {

constexpr size_t kHeaderBytes = 24;

// Time stands still between calls and moves on by one second per call; thread-safe enough for the
// single-threaded harness.
class SteppingClock : public Clock {
 public:
  std::chrono::steady_clock::time_point Now() const override {
    return std::chrono::steady_clock::time_point(std::chrono::seconds(++ticks_));
  }
  double UnixSeconds() const override { return 1.8e9 + static_cast<double>(ticks_); }

 private:
  mutable int64_t ticks_ = 1000;
};

const std::filesystem::path& Dir() {
  static const std::filesystem::path dir = [] {
    std::filesystem::path d = std::filesystem::temp_directory_path() /
                              ("modelmon_snapshot_fuzz_" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

const Config& HarnessConfig() {
  static const Config config = [] {
    std::string yaml = kHarnessYaml;
    yaml += "state:\n  snapshot_path: " + (Dir() / "state.snap").string() + "\n";
    return LoadHarnessConfig(yaml.c_str());
  }();
  return config;
}

std::string WithHeader(std::string_view payload) {
  std::string out("MMSNAPv\0", 8);
  auto put = [&out](uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
  };
  put(state::kSnapshotFormatVersion, 4);
  put(payload.size(), 8);
  put(Crc32c(payload), 4);
  out.append(payload);
  return out;
}

server::HttpResponse Call(server::Service& service, std::string_view method,
                          std::string_view target, std::string_view body = {}) {
  server::HttpRequest request;
  request.method = method;
  request.target = target;
  request.authorization = "Bearer fuzz-admin-token-0123456789";
  if (!body.empty()) request.content_type = "application/json";
  const std::string copy(body);
  request.body = copy;
  return service.Handle(request);
}

std::string ReadSnapshot(const std::string& path) {
  std::string bytes, error;
  if (state::ReadSnapshotFile(path, size_t{1} << 30, &bytes, &error) !=
      state::SnapshotReadStatus::kOk) {
    std::fprintf(stderr, "%s\n", error.c_str());
    Fail("the snapshot just written cannot be read");
  }
  return bytes;
}

void RemoveSetAside() {
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(Dir(), ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    std::filesystem::remove(it->path(), ec);
  }
}

// Drives a service through a day in its life and keeps each snapshot's payload as a seed.
void WriteSeeds(const char* dir) {
  SteppingClock clock;
  const Config& config = HarnessConfig();
  RemoveSetAside();
  std::string error;
  std::unique_ptr<server::Service> service = server::Service::Create(config, &clock, &error);
  if (!service) Fail("the seed service does not start");
  int seed = 0;
  auto keep = [&] {
    if (!service->WriteSnapshot()) Fail("seed snapshot not written");
    const std::string bytes = ReadSnapshot(config.state.snapshot_path);
    std::ofstream(std::string(dir) + "/seed_" + std::to_string(seed++), std::ios::binary)
        << bytes.substr(kHeaderBytes);
  };
  keep();  // Empty state.
  for (int round = 0; round < 4; ++round) {
    std::string binary = "[", multi = "[", reg = "[", truth = "[";
    for (int i = 0; i < 12; ++i) {
      const std::string n = std::to_string(round * 100 + i);
      const char* sep = i == 0 ? "" : ",";
      binary += std::string(sep) + R"({"model":"binary","model_version":"v)" +
                std::to_string(1 + i % 5) + R"(","id":"b)" + n + R"(","features":{"amount":)" +
                std::to_string(i * 1.5) + R"(,"country":")" + (i % 3 ? "DE" : "FR\u00e9") +
                R"("},"prediction":)" + std::to_string(i % 2) + R"(,"score":0.)" +
                std::to_string(1 + i % 9) + "}";
      multi += std::string(sep) + R"({"model":"multi","id":"m)" + n + R"(","features":{"x":)" +
               std::to_string(i) + R"(},"prediction":")" + "abc"[i % 3] +
               R"(","scores":{"a":0.5,"b":0.25,"c":0.25}})";
      reg += std::string(sep) + R"({"model":"reg","id":"q)" + n + R"(","features":{"x":)" +
             std::to_string(i) + R"(,"c":"k)" + std::to_string(i % 4) + R"("},"prediction":)" +
             std::to_string(i + 0.5) + "}";
      if (i % 3 != 2) {
        truth += std::string(truth.size() > 1 ? "," : "") + R"({"model":"binary","id":"b)" + n +
                 R"(","label":)" + std::to_string((i + round) % 2) + R"(},{"model":"reg","id":"q)" +
                 n + R"(","value":)" + std::to_string(i) + R"(},{"model":"multi","id":"m)" + n +
                 R"(","label":"a"})";
      }
    }
    for (std::string* body : {&binary, &multi, &reg, &truth}) *body += "]";
    Call(*service, "POST", "/v1/predictions", binary);
    Call(*service, "POST", "/v1/predictions", multi);
    Call(*service, "POST", "/v1/ground-truth", truth);
    Call(*service, "POST", "/v1/predictions", reg);
    Call(*service, "POST", "/v1/ground-truth",
         R"([{"model":"binary","id":"early)" + std::to_string(round) + R"(","label":1}])");
    service->Evaluate();
    if (round == 2) Call(*service, "POST", "/v1/models/reg/reference/promote");
    keep();
  }
  RemoveSetAside();
  std::fprintf(stderr, "wrote %d snapshot seeds to %s\n", seed, dir);
}

bool IsJson(const server::HttpResponse& r) {
  return r.content_type.substr(0, r.content_type.find(';')) == "application/json";
}

void Run(const uint8_t* data, size_t size) {
  const Config& config = HarnessConfig();
  const std::string& path = config.state.snapshot_path;
  RemoveSetAside();
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << WithHeader(std::string_view(reinterpret_cast<const char*>(data), size));
  }
  SteppingClock clock;
  std::string error;
  std::unique_ptr<server::Service> service = server::Service::Create(config, &clock, &error);
  if (!service) {
    std::fprintf(stderr, "Service::Create: %s\n", error.c_str());
    Fail("a snapshot's content stopped the service from starting");
  }
  service->set_ready(true);
  service->Evaluate();
  service->Evaluate();
  const server::HttpResponse metrics = Call(*service, "GET", "/metrics");
  if (metrics.status != 200) Fail("/metrics did not answer 200");
  if (!state::IsValidUtf8(metrics.body)) Fail("/metrics is not valid UTF-8");
  for (const char* target : {"/v1/alerts", "/v1/models", "/v1/models/binary",
                             "/v1/models/multi?verbose=1", "/v1/models/reg?verbose=1"}) {
    const server::HttpResponse r = Call(*service, "GET", target);
    if (r.status < 200 || r.status > 599) Fail("status outside [200, 599]");
    if (IsJson(r) && !nlohmann::json::accept(r.body)) {
      std::fprintf(stderr, "%s: %s\n", target, r.body.c_str());
      Fail("application/json response body is not valid JSON");
    }
  }
  // What a restored service writes must restore.
  if (!service->WriteSnapshot()) Fail("the restored state's snapshot was not written");
  const state::DecodeResult again = state::DecodeSnapshot(ReadSnapshot(path));
  if (!again.snapshot) {
    std::fprintf(stderr, "%s: %s\n", state::DecodeErrorName(again.error), again.message.c_str());
    Fail("the restored state's snapshot does not decode");
  }
}

}  // namespace
}  // namespace modelmon::fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  if (const char* dir = std::getenv("MODELMON_SNAPSHOT_SEEDS")) {
    return modelmon::fuzz::Guarded([&] { modelmon::fuzz::WriteSeeds(dir); },
                                   "writing the snapshot seeds threw");
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return modelmon::fuzz::Guarded([&] { modelmon::fuzz::Run(data, size); },
                                 "restoring a snapshot threw");
}
