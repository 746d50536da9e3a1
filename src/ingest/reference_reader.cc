#include "ingest/reference_reader.h"

#include <simdjson.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <system_error>
#include <vector>

namespace modelmon::ingest {
namespace {

constexpr size_t kMaxReportedErrors = 5;

// A finite number in std::from_chars syntax, the whole of `text`.
std::optional<double> ParseFinite(std::string_view text) {
  double v = 0;
  const char* first = text.data();
  const char* last = first + text.size();
  auto [ptr, ec] = std::from_chars(first, last, v);
  if (ec != std::errc() || ptr != last || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::string NotANumber(std::string_view text) {
  return "expected a number, got \"" + std::string(text.substr(0, 64)) + "\"";
}

std::string UnknownClass(std::string_view text) {
  return "unknown class \"" + std::string(text.substr(0, 64)) + "\"";
}

// What a CSV column holds besides (or instead of) a schema column.
enum class OutputRole { kNone, kPrediction, kScore, kClassScore, kLabel };

// Reads one non-empty output cell into *out; returns what was wrong.
std::optional<std::string> ParseOutputCell(const ModelSchema& schema, OutputRole role,
                                           int32_t klass, std::string_view text,
                                           ReferenceOutputs* out) {
  const bool classification = schema.is_classification();
  if (role == OutputRole::kPrediction || role == OutputRole::kLabel) {
    if (classification) {
      auto idx = schema.ClassIndex(text);
      if (!idx) return UnknownClass(text);
      (role == OutputRole::kPrediction ? out->predicted_class : out->label_class) = *idx;
    } else {
      auto v = ParseFinite(text);
      if (!v) return NotANumber(text);
      (role == OutputRole::kPrediction ? out->predicted_value : out->label_value) = *v;
    }
    return std::nullopt;
  }
  auto v = ParseFinite(text);
  if (!v) return NotANumber(text);
  if (role == OutputRole::kScore) {
    out->score = *v;
  } else {
    out->class_scores[static_cast<size_t>(klass)] = *v;
  }
  return std::nullopt;
}

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
  std::vector<std::pair<OutputRole, int32_t>> roles(header.size(), {OutputRole::kNone, -1});
  bool class_scores = false;
  constexpr std::string_view kScoresPrefix = "scores.";
  for (size_t i = 0; i < header.size(); ++i) {
    const std::string& h = header[i];
    if (h == "prediction") {
      roles[i].first = OutputRole::kPrediction;
    } else if (h == "label") {
      roles[i].first = OutputRole::kLabel;
    } else if (h == "score" && schema.task() == Task::kBinaryClassification) {
      roles[i].first = OutputRole::kScore;
    } else if (schema.task() == Task::kMulticlassClassification && h.starts_with(kScoresPrefix)) {
      if (auto idx = schema.ClassIndex(std::string_view(h).substr(kScoresPrefix.size()))) {
        roles[i] = {OutputRole::kClassScore, *idx};
        class_scores = true;
      }
    }
  }
  ReferenceOutputs outputs;
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
    outputs = ReferenceOutputs();
    if (class_scores) outputs.class_scores.assign(schema.config().classes.size(), NAN);
    for (size_t i = 0; i < fields.size(); ++i) {
      if (roles[i].first == OutputRole::kNone || fields[i].empty()) continue;
      if (auto problem =
              ParseOutputCell(schema, roles[i].first, roles[i].second, fields[i], &outputs)) {
        // A prediction or score column mapped to a schema column was reported above.
        if (!mapping[i] && errors.size() < kMaxReportedErrors) {
          errors.push_back("line " + std::to_string(line) + ", column " + header[i] + ": " +
                           *problem);
        }
      }
    }
    for (double v : outputs.class_scores) {
      if (std::isnan(v)) outputs.class_scores.clear();
    }
    sink->Outputs(outputs);
    sink->EndRow();
  }
  if (errors.empty()) return "";
  std::string error = "invalid reference CSV: ";
  for (size_t i = 0; i < errors.size(); ++i) error += (i ? "; " : "") + errors[i];
  return error;
}

// The "label" field (or "value" for regression) of each non-blank line, split as the event
// parser splits NDJSON. Lines are valid JSON objects (the event parser accepted them).
std::string ReadJsonLabels(std::string_view body, const ModelSchema& schema,
                           std::vector<ReferenceOutputs>* out) {
  simdjson::dom::parser parser;
  std::vector<std::string> errors;
  size_t pos = 0, index = 0;
  const char* key = schema.is_classification() ? "label" : "value";
  while (pos < body.size()) {
    size_t end = body.find('\n', pos);
    if (end == std::string_view::npos) end = body.size();
    std::string_view line = body.substr(pos, end - pos);
    pos = end + 1;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
      line.remove_suffix(1);
    }
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (line.empty()) continue;
    ++index;
    ReferenceOutputs& row = out->emplace_back();
    simdjson::dom::element e;
    if (parser.parse(line.data(), line.size(), true).get(e) || !e.is_object()) continue;
    simdjson::dom::element v;
    if (e[key].get(v) && (schema.is_classification() || e["label"].get(v))) continue;
    if (v.is_null()) continue;
    std::optional<std::string> problem;
    std::string text;
    if (v.is_string()) {
      text = std::string(std::string_view(v));
    } else if (v.is_int64()) {
      text = std::to_string(int64_t(v));
    } else if (v.is_uint64()) {
      text = std::to_string(uint64_t(v));
    } else if (v.is_bool()) {
      text = bool(v) ? "true" : "false";
    } else if (v.is_double()) {
      const double d = double(v);
      if (!schema.is_classification()) {
        row.label_value = d;
      } else if (std::floor(d) == d && std::fabs(d) < 1e15) {
        text = std::to_string(static_cast<int64_t>(d));
      }
    }
    if (!schema.is_classification()) {
      if (v.is_int64() || v.is_uint64()) row.label_value = double(v);
      if (std::isnan(row.label_value)) problem = "value: expected a number";
    } else if (auto idx = schema.ClassIndex(text); idx && !text.empty()) {
      row.label_class = *idx;
    } else {
      problem = "label: " + UnknownClass(text);
    }
    if (problem && errors.size() < kMaxReportedErrors) {
      errors.push_back("line " + std::to_string(index) + ": " + *problem);
    }
  }
  if (errors.empty()) return "";
  std::string error = "invalid reference labels: ";
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
  std::vector<ReferenceOutputs> labels;
  if (std::string error = ReadJsonLabels(body, *parser.schemas()[model], &labels); !error.empty()) {
    return error;
  }
  for (size_t i = 0; i < batch.events.size(); ++i) {
    const PredictionEvent& event = batch.events[i];
    for (size_t c = 0; c < event.columns.size(); ++c) {
      if (event.columns[c].kind != Value::Kind::kMissing) sink->Cell(c, event.columns[c]);
    }
    ReferenceOutputs outputs;
    if (i < labels.size()) outputs = labels[i];
    outputs.predicted_class = event.predicted_class;
    outputs.predicted_value = parser.schemas()[model]->is_classification()
                                  ? std::numeric_limits<double>::quiet_NaN()
                                  : event.predicted_value;
    outputs.score = event.score;
    outputs.class_scores = event.class_scores;
    sink->Outputs(outputs);
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
