// In-process cost of the ingest path: Service::Handle() on a batch of 1000 prediction events with
// 15 numerical and 5 categorical features (a binary classifier with the default detectors, a 10k
// reference and a 10k window), without sockets. Baseline in the same process: the same body through
// the parser alone, and a plain copy of the body (what a discard endpoint costs at most).

#include <benchmark/benchmark.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "ingest/event_parser.h"
#include "ingest/schema.h"
#include "modelmon/clock.h"
#include "modelmon/config.h"
#include "server/service.h"

namespace modelmon::bench {
namespace {

constexpr int kNumerical = 15;
constexpr int kCategorical = 5;
constexpr size_t kBatch = 1000;

std::string ConfigYaml(size_t window, size_t reference) {
  std::string y =
      "models:\n  - name: m\n    task: binary_classification\n"
      "    classes: [\"0\", \"1\"]\n    positive_class: \"1\"\n    window: {size: ";
  y += std::to_string(window);
  y += "}\n    reference: {capture: ";
  y += std::to_string(reference);
  y += "}\n    features:\n";
  for (int f = 0; f < kNumerical; ++f) {
    y += "      - {name: n";
    y += std::to_string(f);
    y += ", type: numerical}\n";
  }
  for (int f = 0; f < kCategorical; ++f) {
    y += "      - {name: c";
    y += std::to_string(f);
    y += ", type: categorical}\n";
  }
  return y;
}

// A JSON array of kBatch events; `shift` moves the numerical means (drift).
std::string Batch(std::mt19937_64& rng, double shift, size_t first_id, bool ids = true) {
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_int_distribution<int> category(0, 19);
  std::string body = "[";
  char num[64];
  for (size_t i = 0; i < kBatch; ++i) {
    if (i) body += ',';
    body += "{\"model\":\"m\",\"model_version\":\"v1\",";
    if (ids) {
      body += "\"id\":\"r";
      body += std::to_string(first_id + i);
      body += "\",";
    }
    body += "\"timestamp\":1764400000.5,\"features\":{";
    for (int f = 0; f < kNumerical; ++f) {
      std::snprintf(num, sizeof num, "\"n%d\":%.6g,", f, normal(rng) * (1 + f) + shift);
      body += num;
    }
    for (int f = 0; f < kCategorical; ++f) {
      std::snprintf(num, sizeof num, "\"c%d\":\"cat%d\"%s", f, category(rng),
                    f + 1 < kCategorical ? "," : "");
      body += num;
    }
    std::snprintf(num, sizeof num, "},\"prediction\":%d,\"score\":%.3f}", normal(rng) > 0 ? 1 : 0,
                  std::uniform_real_distribution<double>(0, 1)(rng));
    body += num;
  }
  body += "]";
  return body;
}

struct Fixture {
  std::unique_ptr<server::Service> service;
  std::vector<std::string> bodies;  // Drifted batches with distinct ids to cycle through.
};

Fixture Make(size_t window, bool ids = true) {
  Fixture fx;
  auto loaded = LoadConfigString(ConfigYaml(window, 10000));
  if (!loaded.ok()) {
    std::fprintf(stderr, "config: %s\n", loaded.errors.front().c_str());
    std::abort();
  }
  std::string error;
  fx.service = server::Service::Create(*loaded.config, Clock::Real(), &error);
  if (!fx.service) {
    std::fprintf(stderr, "service: %s\n", error.c_str());
    std::abort();
  }
  std::mt19937_64 rng(42);
  size_t id = 0;
  auto post = [&](const std::string& body) {
    server::HttpRequest req{"POST", "/v1/predictions", "application/json", "", body};
    auto resp = fx.service->Handle(req);
    if (resp.status != 200) {
      std::fprintf(stderr, "ingest: %d %s\n", resp.status, resp.body.c_str());
      std::abort();
    }
  };
  for (int i = 0; i < 10; ++i) post(Batch(rng, 0.0, (id += kBatch)));  // The reference.
  // More distinct ids than the join store keeps (100k pending), so that every event is new to it.
  for (int i = 0; i < 128; ++i) fx.bodies.push_back(Batch(rng, 0.3, (id += kBatch), ids));
  for (size_t n = 0; n < window; n += kBatch) post(fx.bodies[(n / kBatch) % fx.bodies.size()]);
  return fx;
}

void BM_IngestBatch(benchmark::State& state) {
  Fixture fx = Make(static_cast<size_t>(state.range(0)), state.range(1) != 0);
  size_t i = 0, bytes = 0;
  for (auto _ : state) {
    const std::string& body = fx.bodies[i++ % fx.bodies.size()];
    server::HttpRequest req{"POST", "/v1/predictions", "application/json", "", body};
    auto resp = fx.service->Handle(req);
    benchmark::DoNotOptimize(resp);
    bytes += body.size();
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(kBatch));
}
// Args: window size, whether events carry an id (and wait in the join store).
BENCHMARK(BM_IngestBatch)->Args({10000, 1})->Args({10000, 0})->Unit(benchmark::kMillisecond);

// One evaluation round after a whole window of new events: every drift state is rebuilt from the
// window (Sync) and every test runs on all 22 columns (15 numerical and 5 categorical features,
// prediction and score). The ingestion between rounds is excluded from the timing.
void BM_EvaluateAfterWindow(benchmark::State& state) {
  Fixture fx = Make(10000, false);
  size_t i = 0;
  for (auto _ : state) {
    state.PauseTiming();
    for (int b = 0; b < 10; ++b) {
      server::HttpRequest req{"POST", "/v1/predictions", "application/json", "",
                              fx.bodies[i++ % fx.bodies.size()]};
      fx.service->Handle(req);
    }
    state.ResumeTiming();
    fx.service->Evaluate();
  }
}
BENCHMARK(BM_EvaluateAfterWindow)->Unit(benchmark::kMillisecond);

// One event per request, as a model server posting each prediction.
void BM_IngestSingle(benchmark::State& state) {
  Fixture fx = Make(10000);
  std::vector<std::string> singles;
  for (const std::string& body : fx.bodies) {
    // Split each batch "[{...},{...}]" into its events.
    const std::string delimiter = "},{\"model\"";
    size_t begin = 1;
    for (size_t end = body.find(delimiter, begin); end != std::string::npos;
         end = body.find(delimiter, begin)) {
      singles.push_back(body.substr(begin, end + 1 - begin));
      begin = end + 2;
    }
    singles.push_back(body.substr(begin, body.size() - 1 - begin));
  }
  size_t i = 0;
  for (auto _ : state) {
    server::HttpRequest req{"POST", "/v1/predictions", "application/json", "",
                            singles[i++ % singles.size()]};
    auto resp = fx.service->Handle(req);
    benchmark::DoNotOptimize(resp);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_IngestSingle)->Unit(benchmark::kMicrosecond);

// The event parser alone (simdjson DOM plus validation into PredictionEvents) on the same batches
// without ids: the share of BM_IngestBatch/10000/0 that parsing takes.
void BM_ParseBatch(benchmark::State& state) {
  auto loaded = LoadConfigString(ConfigYaml(10000, 10000));
  ingest::EventParser parser(
      {std::make_shared<const ingest::ModelSchema>(loaded.config->models[0])});
  std::mt19937_64 rng(42);
  std::vector<std::string> bodies;
  for (int i = 0; i < 8; ++i) bodies.push_back(Batch(rng, 0.3, 0, false));
  size_t i = 0, bytes = 0;
  for (auto _ : state) {
    const std::string& body = bodies[i++ % bodies.size()];
    auto batch = parser.ParsePredictions(body, ingest::BodyFormat::kJson, kBatch);
    benchmark::DoNotOptimize(batch);
    bytes += body.size();
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_ParseBatch)->Unit(benchmark::kMillisecond);

void BM_CopyBody(benchmark::State& state) {
  std::mt19937_64 rng(42);
  std::string body = Batch(rng, 0.3, 0);
  for (auto _ : state) {
    std::string copy = body;
    benchmark::DoNotOptimize(copy.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(body.size()));
}
BENCHMARK(BM_CopyBody)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace modelmon::bench

BENCHMARK_MAIN();
