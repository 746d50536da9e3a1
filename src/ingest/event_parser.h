#ifndef MODELMON_INGEST_EVENT_PARSER_H_
#define MODELMON_INGEST_EVENT_PARSER_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/event.h"
#include "ingest/schema.h"

namespace modelmon::ingest {

enum class BodyFormat { kJson, kNdjson };

// Result of parsing one request body. When `body_error` is set the body as a whole was unusable
// (the request gets a 4xx) and nothing was accepted; otherwise every event is either in `events` or
// has one entry in `errors`.
template <typename Event>
struct ParsedBatch {
  std::vector<Event> events;
  std::vector<EventError> errors;
  size_t total = 0;  // Events seen in the body.
  std::optional<std::string> body_error;
  bool too_many_events = false;  // With body_error: more than max_events in the body (413).

  // With body_error: the reason label of the rejection, kTooManyEvents or kInvalidBody.
  const char* body_reason() const { return too_many_events ? kTooManyEvents : kInvalidBody; }
};

// Validates untrusted request bodies against the configured models. Never throws on any input;
// memory use is bounded by the body size. Thread-safe: parsing state is per thread.
class EventParser {
 public:
  // schemas: one per configured model, in config order (event.model indexes this).
  explicit EventParser(std::vector<std::shared_ptr<const ModelSchema>> schemas);

  // A body is one JSON object, a JSON array of objects, or (kNdjson) one object per line.
  // With `only_model` set (reference data of one model), "model" may be omitted and any other model
  // is an error.
  ParsedBatch<PredictionEvent> ParsePredictions(
      std::string_view body, BodyFormat format, size_t max_events,
      std::optional<size_t> only_model = std::nullopt) const;
  ParsedBatch<GroundTruthEvent> ParseGroundTruth(std::string_view body, BodyFormat format,
                                                 size_t max_events) const;

  const std::vector<std::shared_ptr<const ModelSchema>>& schemas() const { return schemas_; }
  std::optional<size_t> ModelIndex(std::string_view name) const;

 private:
  std::vector<std::shared_ptr<const ModelSchema>> schemas_;
  StringMap<size_t> model_index_;
};

// Parses an RFC 3339 timestamp ("2026-11-29T10:00:00Z", fractions and offsets allowed) to Unix
// seconds. Pure; nullopt when malformed.
std::optional<double> ParseRfc3339(std::string_view text);

}  // namespace modelmon::ingest

#endif  // MODELMON_INGEST_EVENT_PARSER_H_
