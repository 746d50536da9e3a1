// libFuzzer target for ingest::EventParser on untrusted request bodies.
//
// Input layout: byte 0 selects the call (bit 0: NDJSON, bit 1: ground truth, bits 2-3: only_model
// for reference data, bit 4: a max_events of 3 instead of 64); the rest is the body.
// Invariants: nothing throws; a body_error batch accepted nothing; otherwise every event is either
// accepted or has exactly one error, the batch respects max_events, and every accepted event fits
// its model's schema.

#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "fuzz_common.h"
#include "ingest/event_parser.h"
#include "ingest/schema.h"

namespace modelmon::fuzz {
namespace {

const ingest::EventParser& Parser() {
  static const ingest::EventParser* parser = [] {
    const Config config = LoadHarnessConfig(kHarnessYaml);
    std::vector<std::shared_ptr<const ingest::ModelSchema>> schemas;
    for (const ModelConfig& m : config.models) {
      schemas.push_back(std::make_shared<const ingest::ModelSchema>(m));
    }
    return new ingest::EventParser(std::move(schemas));
  }();
  return *parser;
}

template <typename Batch>
void CheckCounts(const Batch& batch, size_t max_events) {
  if (batch.too_many_events && !batch.body_error) Fail("too_many_events without body_error");
  if (batch.body_error) {
    if (!batch.events.empty()) Fail("events accepted from a body with body_error");
    return;
  }
  if (batch.events.size() + batch.errors.size() != batch.total) {
    Fail("accepted + rejected != total");
  }
  if (batch.total > max_events) Fail("more than max_events events without body_error");
}

void Run(const uint8_t* data, size_t size) {
  if (size == 0) return;
  const uint8_t control = data[0];
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  const auto format = (control & 1u) != 0 ? ingest::BodyFormat::kNdjson : ingest::BodyFormat::kJson;
  const size_t max_events = (control & 16u) != 0 ? 3 : 64;
  const ingest::EventParser& parser = Parser();
  const size_t num_models = parser.schemas().size();

  if ((control & 2u) != 0) {
    const auto batch = parser.ParseGroundTruth(body, format, max_events);
    CheckCounts(batch, max_events);
    for (const ingest::GroundTruthEvent& e : batch.events) {
      if (e.model >= num_models) Fail("ground truth event of an unknown model");
      const ingest::ModelSchema& schema = *parser.schemas()[e.model];
      if (schema.is_classification()) {
        const auto classes = schema.config().classes.size();
        if (e.label_class < 0 || static_cast<size_t>(e.label_class) >= classes) {
          Fail("label class out of range");
        }
      }
    }
    return;
  }

  std::optional<size_t> only_model;
  const unsigned selector = (control >> 2) & 3u;
  if (selector != 0) only_model = selector - 1;
  const auto batch = parser.ParsePredictions(body, format, max_events, only_model);
  CheckCounts(batch, max_events);
  for (const ingest::PredictionEvent& e : batch.events) {
    if (e.model >= num_models) Fail("prediction event of an unknown model");
    if (only_model && e.model != *only_model) Fail("event of another model accepted");
    const ingest::ModelSchema& schema = *parser.schemas()[e.model];
    if (e.columns.size() != schema.columns().size()) Fail("column count differs from the schema");
    if (schema.is_classification()) {
      const auto classes = schema.config().classes.size();
      if (e.predicted_class < 0 || static_cast<size_t>(e.predicted_class) >= classes) {
        Fail("predicted class out of range");
      }
    }
  }
}

}  // namespace
}  // namespace modelmon::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return modelmon::fuzz::Guarded([&] { modelmon::fuzz::Run(data, size); }, "EventParser threw");
}
