#include "ingest/reference_reader.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <system_error>
#include <vector>

namespace modelmon::ingest {
namespace {

constexpr size_t kMaxReportedErrors = 5;

// Splits one CSV record (RFC 4180 quoting) starting at *pos; advances *pos past its line end.
std::vector<std::string> CsvRecord(std::string_view text, size_t* pos) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  size_t i = *pos;
  for (; i < text.size(); ++i) {
    const char ch = text[i];
    if (quoted) {
      if (ch == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else if (ch == '"') {
        quoted = false;
      } else {
        fields.back() += ch;
      }
    } else if (ch == '"') {
      quoted = true;
    } else if (ch == ',') {
      fields.emplace_back();
    } else if (ch == '\n') {
      break;
    } else if (ch != '\r') {
      fields.back() += ch;
    }
  }
  *pos = i + 1;
  return fields;
}

std::string ReadCsv(std::string_view body, const ModelSchema& schema, ReferenceSink* sink) {
  size_t pos = 0;
  while (pos < body.size() && (body[pos] == '\n' || body[pos] == '\r')) ++pos;
  if (pos >= body.size()) return "empty CSV: expected a header line naming the columns";
  const std::vector<std::string> header = CsvRecord(body, &pos);
  // CSV column -> schema column (or none).
  std::vector<std::optional<size_t>> mapping(header.size());
  size_t matched = 0;
  for (size_t i = 0; i < header.size(); ++i) {
    for (size_t c = 0; c < schema.columns().size(); ++c) {
      const std::string& name = schema.columns()[c].name;
      const bool is_prediction = schema.prediction_column() == c && header[i] == "prediction";
      const bool is_score = schema.score_column() == c && header[i] == "score";
      if (header[i] == name || is_prediction || is_score) {
        mapping[i] = c;
        ++matched;
      }
    }
  }
  if (matched == 0) return "CSV header names none of the model's features";
  std::vector<std::string> errors;
  size_t line = 1;
  Value value;
  while (pos < body.size()) {
    ++line;
    const std::vector<std::string> fields = CsvRecord(body, &pos);
    if (fields.size() == 1 && fields[0].empty()) continue;
    if (fields.size() != header.size()) {
      if (errors.size() < kMaxReportedErrors) {
        errors.push_back("line " + std::to_string(line) + ": expected " +
                         std::to_string(header.size()) + " fields, got " +
                         std::to_string(fields.size()));
      }
      continue;
    }
    for (size_t i = 0; i < fields.size(); ++i) {
      if (!mapping[i]) continue;
      const size_t c = *mapping[i];
      if (auto problem = ParseReferenceCell(schema, c, fields[i], &value)) {
        if (errors.size() < kMaxReportedErrors) {
          errors.push_back("line " + std::to_string(line) + ", column " + header[i] + ": " +
                           *problem);
        }
        continue;
      }
      if (value.kind != Value::Kind::kMissing) sink->Cell(c, value);
    }
    sink->EndRow();
  }
  if (errors.empty()) return "";
  std::string error = "invalid reference CSV: ";
  for (size_t i = 0; i < errors.size(); ++i) error += (i ? "; " : "") + errors[i];
  return error;
}

std::string ReadJsonLines(std::string_view body, const EventParser& parser, size_t model,
                          ReferenceSink* sink) {
  auto batch =
      parser.ParsePredictions(body, BodyFormat::kNdjson, std::numeric_limits<size_t>::max(), model);
  if (batch.body_error) return *batch.body_error;
  if (!batch.errors.empty()) {
    std::string error = "invalid reference events: ";
    for (size_t i = 0; i < batch.errors.size() && i < kMaxReportedErrors; ++i) {
      error += (i ? "; " : "") + std::string("line ") + std::to_string(batch.errors[i].index + 1) +
               ": " + batch.errors[i].message;
    }
    if (batch.errors.size() > kMaxReportedErrors) {
      error += "; and " + std::to_string(batch.errors.size() - kMaxReportedErrors) + " more";
    }
    return error;
  }
  for (const PredictionEvent& event : batch.events) {
    for (size_t c = 0; c < event.columns.size(); ++c) {
      if (event.columns[c].kind != Value::Kind::kMissing) sink->Cell(c, event.columns[c]);
    }
    sink->EndRow();
  }
  return "";
}

}  // namespace

std::optional<std::string> ParseReferenceCell(const ModelSchema& schema, size_t column,
                                              std::string_view text, Value* out) {
  out->kind = Value::Kind::kMissing;
  if (text.empty()) return std::nullopt;  // Empty means missing.
  if (schema.columns()[column].type == FeatureType::kNumerical) {
    double v = 0;
    const char* first = text.data();
    const char* last = first + text.size();
    auto [ptr, ec] = std::from_chars(first, last, v);
    if (ec != std::errc() || ptr != last || !std::isfinite(v)) {
      return "expected a number, got \"" + std::string(text.substr(0, 64)) + "\"";
    }
    out->kind = Value::Kind::kNumber;
    out->number = v;
    return std::nullopt;
  }
  if (schema.prediction_column() == column && !schema.ClassIndex(text)) {
    return "unknown class \"" + std::string(text.substr(0, 64)) + "\"";
  }
  if (auto problem = CategoryProblem(text)) return problem;
  out->kind = Value::Kind::kCategory;
  out->category.assign(text);
  return std::nullopt;
}

std::string ReadReference(std::string_view body, ReferenceFormat format, const EventParser& parser,
                          size_t model, ReferenceSink* sink) {
  if (format == ReferenceFormat::kCsv) return ReadCsv(body, *parser.schemas()[model], sink);
  return ReadJsonLines(body, parser, model, sink);
}

}  // namespace modelmon::ingest
