#include "state/reference_data.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

namespace modelmon::state {

ReferenceData::ReferenceData(const ingest::ModelSchema& schema)
    : numerical_(schema.columns().size()), categorical_(schema.columns().size()) {}

void ReferenceData::AddRow(const ingest::PredictionEvent& event) {
  for (size_t c = 0; c < event.columns.size(); ++c) {
    const ingest::Value& v = event.columns[c];
    if (v.kind == ingest::Value::Kind::kNumber && std::isfinite(v.number)) {
      numerical_[c].push_back(v.number);
    } else if (v.kind == ingest::Value::Kind::kCategory) {
      AddCategory(c, v.category);
    }
  }
  ++rows_;
}

void ReferenceData::AddCategory(size_t column, std::string_view category, int64_t count) {
  auto& counts = categorical_[column];
  auto it = counts.find(category);
  if (it == counts.end()) {
    counts.emplace(std::string(category), count);
  } else {
    it->second += count;
  }
}

std::vector<std::pair<std::string, int64_t>> ReferenceData::CategoryCounts(size_t column) const {
  std::vector<std::pair<std::string, int64_t>> out(categorical_[column].begin(),
                                                   categorical_[column].end());
  std::sort(out.begin(), out.end());
  return out;
}

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

ReferenceLoad ParseCsv(std::string_view body, const ingest::ModelSchema& schema) {
  ReferenceLoad out;
  ReferenceData data(schema);
  size_t pos = 0;
  while (pos < body.size() && (body[pos] == '\n' || body[pos] == '\r')) ++pos;
  if (pos >= body.size()) {
    out.error = "empty CSV: expected a header line naming the columns";
    return out;
  }
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
  if (matched == 0) {
    out.error = "CSV header names none of the model's features";
    return out;
  }
  std::vector<std::string> errors;
  size_t line = 1;
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
      if (!mapping[i] || fields[i].empty()) continue;  // Empty means missing.
      const size_t c = *mapping[i];
      if (schema.columns()[c].type == FeatureType::kNumerical) {
        double v = 0;
        const char* first = fields[i].data();
        const char* last = first + fields[i].size();
        auto [ptr, ec] = std::from_chars(first, last, v);
        if (ec != std::errc() || ptr != last || !std::isfinite(v)) {
          if (errors.size() < kMaxReportedErrors) {
            errors.push_back("line " + std::to_string(line) + ", column " + header[i] +
                             ": expected a number, got \"" + fields[i].substr(0, 64) + "\"");
          }
          continue;
        }
        data.AddNumber(c, v);
      } else {
        if (schema.prediction_column() == c && !schema.ClassIndex(fields[i])) {
          if (errors.size() < kMaxReportedErrors) {
            errors.push_back("line " + std::to_string(line) + ", column " + header[i] +
                             ": unknown class \"" + fields[i].substr(0, 64) + "\"");
          }
          continue;
        }
        data.AddCategory(c, fields[i]);
      }
    }
    data.set_rows(data.rows() + 1);
  }
  if (!errors.empty()) {
    out.error = "invalid reference CSV: ";
    for (size_t i = 0; i < errors.size(); ++i) out.error += (i ? "; " : "") + errors[i];
    return out;
  }
  out.data = std::move(data);
  return out;
}

}  // namespace

ReferenceLoad ParseReference(std::string_view body, ReferenceFormat format,
                             const ingest::EventParser& parser, size_t model) {
  const ingest::ModelSchema& schema = *parser.schemas()[model];
  if (format == ReferenceFormat::kCsv) return ParseCsv(body, schema);
  ReferenceLoad out;
  auto batch = parser.ParsePredictions(body, ingest::BodyFormat::kNdjson,
                                       std::numeric_limits<size_t>::max(), model);
  if (batch.body_error) {
    out.error = *batch.body_error;
    return out;
  }
  if (!batch.errors.empty()) {
    out.error = "invalid reference events: ";
    for (size_t i = 0; i < batch.errors.size() && i < kMaxReportedErrors; ++i) {
      out.error += (i ? "; " : "") + std::string("line ") +
                   std::to_string(batch.errors[i].index + 1) + ": " + batch.errors[i].message;
    }
    if (batch.errors.size() > kMaxReportedErrors) {
      out.error += "; and " + std::to_string(batch.errors.size() - kMaxReportedErrors) + " more";
    }
    return out;
  }
  ReferenceData data(schema);
  for (const auto& ev : batch.events) data.AddRow(ev);
  out.data = std::move(data);
  return out;
}

ReferenceLoad LoadReferenceFile(const std::string& path, const ingest::EventParser& parser,
                                size_t model) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ReferenceLoad out;
    out.error = path + ": cannot open reference file";
    return out;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  const bool csv = path.size() >= 4 && path.compare(path.size() - 4, 4, ".csv") == 0;
  ReferenceLoad out = ParseReference(
      buffer.str(), csv ? ReferenceFormat::kCsv : ReferenceFormat::kJsonLines, parser, model);
  if (!out.data) out.error = path + ": " + out.error;
  return out;
}

}  // namespace modelmon::state
