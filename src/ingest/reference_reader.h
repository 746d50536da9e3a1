#ifndef MODELMON_INGEST_REFERENCE_READER_H_
#define MODELMON_INGEST_REFERENCE_READER_H_

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/event.h"
#include "ingest/event_parser.h"
#include "ingest/schema.h"

namespace modelmon::ingest {

enum class ReferenceFormat { kJsonLines, kCsv };

// A reference row's model outputs and its ground-truth label, as label-free estimation and target
// drift read them. Absent values: class -1, NaN, empty class_scores. Plain data.
struct ReferenceOutputs {
  int32_t predicted_class = -1;      // Classification: index into the configured classes.
  double predicted_value = NAN;      // Regression.
  double score = NAN;                // Binary: score of the positive class.
  std::vector<double> class_scores;  // Multiclass: one per configured class.
  int32_t label_class = -1;          // Classification label.
  double label_value = NAN;          // Regression label.
};

// Receives the validated cells of a reference body, row by row. Not called concurrently.
class ReferenceSink {
 public:
  virtual ~ReferenceSink() = default;
  // One present cell of schema column `column` (ModelSchema::columns() order): a kNumber for a
  // numerical column (finite for CSV; as the event parser accepts it for JSON lines) or a kCategory
  // for a categorical one. Missing cells are not passed.
  virtual void Cell(size_t column, const Value& value) = 0;
  // The row's outputs and label, once per row just before EndRow(). Default: ignored.
  virtual void Outputs(const ReferenceOutputs& /*outputs*/) {}
  // Ends a row; every row of the body ends once, including rows whose cells were all missing.
  virtual void EndRow() = 0;
};

// Validates one CSV cell of schema column `column`. Returns nullopt and sets *out: an empty cell is
// missing; a numerical column takes a finite number in std::from_chars syntax; the prediction
// column of a classifier takes a configured class name; other categorical columns take any text.
// Otherwise returns what was wrong: `expected a number, got "TEXT"` or `unknown class "TEXT"`
// (TEXT cut to 64 bytes). Pure; O(size of text).
std::optional<std::string> ParseReferenceCell(const ModelSchema& schema, size_t column,
                                              std::string_view text, Value* out);

// Validates the reference body of model `model` (parser.schemas()[model]) and passes its rows to
// `sink` in order. kJsonLines: NDJSON prediction events through `parser`, "model" optional.
// kCsv: a header line naming the columns (feature names, "prediction", "score", "label" and, for
// multiclass, "scores.CLASS"; other columns are ignored), RFC 4180 quoting, blank lines skipped,
// one record per line. A label (CSV column "label", JSON lines field "label", or "value" for
// regression) is a configured class name or, for regression, a finite number; absent or empty
// means unlabelled. Returns "" when every row
// is valid; otherwise the error naming the first five problems with their line numbers, and the
// rows already passed to `sink` are to be discarded. Never throws on any input; O(body size).
std::string ReadReference(std::string_view body, ReferenceFormat format, const EventParser& parser,
                          size_t model, ReferenceSink* sink);

}  // namespace modelmon::ingest

#endif  // MODELMON_INGEST_REFERENCE_READER_H_
