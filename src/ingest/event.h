#ifndef MODELMON_INGEST_EVENT_H_
#define MODELMON_INGEST_EVENT_H_

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "ingest/reject_reason.h"

namespace modelmon::ingest {

// One column value of a prediction event. Plain data.
struct Value {
  enum class Kind : uint8_t { kMissing, kNumber, kCategory };
  Kind kind = Kind::kMissing;
  double number = 0;     // kNumber: always finite.
  std::string category;  // kCategory: the category's text (numbers and booleans as JSON text).
};

// A validated prediction event of one model. Plain data, owns everything it refers to.
struct PredictionEvent {
  size_t model = 0;              // Index into the configured models.
  std::string model_version;     // "" when absent.
  std::string id;                // "" when absent (then it cannot be joined).
  double timestamp = NAN;        // Unix seconds; NaN when absent.
  std::vector<Value> columns;    // One per ModelSchema::columns(), prediction and score included.
  int32_t predicted_class = -1;  // Classification: index into the configured classes.
  double predicted_value = 0;    // Regression.
  double score = NAN;            // Binary: score of the positive class; NaN when absent.
  std::vector<double> class_scores;  // Multiclass: per configured class; empty when absent.
  double latency_ms = NAN;           // Model server latency; NaN when absent.
  int8_t error = -1;                 // Model server error flag: -1 absent, 0 ok, 1 error.
};

// A validated ground-truth event. Plain data.
struct GroundTruthEvent {
  size_t model = 0;
  std::string id;
  double timestamp = NAN;
  int32_t label_class = -1;  // Classification.
  double label_value = 0;    // Regression.
};

struct EventError {
  size_t index;  // Position of the event in the request (array element or NDJSON line).
  RejectReason reason;
  std::string message;  // "features.amount: expected number, got string".
};

}  // namespace modelmon::ingest

#endif  // MODELMON_INGEST_EVENT_H_
