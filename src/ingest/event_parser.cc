// Request body parsing and validation. simdjson is used in this file only.

#include "ingest/event_parser.h"

#include <simdjson.h>

#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <utility>

namespace modelmon::ingest {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

constexpr size_t kMaxDepth = 32;
constexpr size_t kMaxIdLength = 256;
constexpr size_t kMaxVersionLength = 128;

simdjson::dom::parser& ThreadParser() {
  thread_local simdjson::dom::parser parser = [] {
    simdjson::dom::parser p;
    // On failure parse() reports the error for each body; nothing to do here.
    [[maybe_unused]] auto error = p.allocate(64 * 1024, kMaxDepth);
    return p;
  }();
  return parser;
}

const char* TypeName(const element& e) {
  switch (e.type()) {
    case element_type::ARRAY:
      return "array";
    case element_type::OBJECT:
      return "object";
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE:
      return "number";
    case element_type::STRING:
      return "string";
    case element_type::BOOL:
      return "boolean";
    case element_type::NULL_VALUE:
      return "null";
  }
  return "unknown";
}

bool IsNumber(const element& e) {
  auto t = e.type();
  return t == element_type::INT64 || t == element_type::UINT64 || t == element_type::DOUBLE;
}

double AsDouble(const element& e) {
  switch (e.type()) {
    case element_type::INT64:
      return static_cast<double>(int64_t(e));
    case element_type::UINT64:
      return static_cast<double>(uint64_t(e));
    default:
      return double(e);
  }
}

std::string FormatDouble(double v) {
  std::array<char, 32> buf{};
  auto [ptr, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  return ec == std::errc() ? std::string(buf.data(), ptr) : std::string("nan");
}

// The text by which a scalar is matched against class names and categories: strings as they are,
// integers in decimal, booleans as true/false. Nullopt for other types.
std::optional<std::string> ScalarText(const element& e) {
  switch (e.type()) {
    case element_type::STRING:
      return std::string(std::string_view(e));
    case element_type::INT64:
      return std::to_string(int64_t(e));
    case element_type::UINT64:
      return std::to_string(uint64_t(e));
    case element_type::DOUBLE:
      return FormatDouble(double(e));
    case element_type::BOOL:
      return bool(e) ? "true" : "false";
    default:
      return std::nullopt;
  }
}

struct Failure {
  RejectReason reason;
  std::string message;
};

Failure WrongType(const std::string& path, const char* expected, const element& got) {
  return {RejectReason::kWrongType, path + ": expected " + expected + ", got " + TypeName(got)};
}

std::optional<Failure> ReadTimestamp(const element& e, double* out) {
  if (IsNumber(e)) {
    *out = AsDouble(e);
    if (*out < 0 || *out > 32503680000.0) {
      return Failure{RejectReason::kInvalidValue,
                     "timestamp: expected Unix seconds between 1970 and 3000"};
    }
    return std::nullopt;
  }
  if (e.type() == element_type::STRING) {
    auto t = ParseRfc3339(std::string_view(e));
    if (!t) {
      return Failure{RejectReason::kInvalidValue,
                     "timestamp: expected RFC 3339 such as 2026-11-29T10:00:00Z"};
    }
    *out = *t;
    return std::nullopt;
  }
  return WrongType("timestamp", "string or number", e);
}

std::optional<Failure> ReadId(const element& e, std::string* out) {
  if (e.type() == element_type::STRING) {
    std::string_view s(e);
    if (s.empty() || s.size() > kMaxIdLength) {
      return Failure{RejectReason::kInvalidValue, "id: expected 1 to 256 characters"};
    }
    *out = std::string(s);
    return std::nullopt;
  }
  if (e.type() == element_type::INT64 || e.type() == element_type::UINT64) {
    *out = *ScalarText(e);
    return std::nullopt;
  }
  return WrongType("id", "string or integer", e);
}

// Class of a classification prediction or label.
std::optional<Failure> ReadClass(const ModelSchema& schema, const char* field, const element& e,
                                 int32_t* out) {
  auto text = ScalarText(e);
  if (!text || e.type() == element_type::DOUBLE) {
    if (e.type() == element_type::DOUBLE) {
      // 1.0 is a common encoding of class 1.
      double v = double(e);
      if (std::floor(v) == v && std::fabs(v) < 1e15) {
        text = std::to_string(static_cast<int64_t>(v));
      }
    }
    if (!text) return WrongType(field, "a class name (string, integer or boolean)", e);
  }
  auto idx = schema.ClassIndex(*text);
  if (!idx) {
    std::string classes;
    for (const auto& c : schema.config().classes) classes += (classes.empty() ? "" : ", ") + c;
    if (text->size() > 64) text = text->substr(0, 64) + "...";
    return Failure{RejectReason::kUnknownClass, std::string(field) + ": unknown class \"" + *text +
                                                    "\" (expected one of " + classes + ")"};
  }
  *out = *idx;
  return std::nullopt;
}

std::optional<Failure> ReadFeatures(const ModelSchema& schema, const element& e,
                                    PredictionEvent* ev) {
  if (e.type() != element_type::OBJECT) return WrongType("features", "object", e);
  const size_t num_features = schema.num_features();
  const std::vector<Column>& columns = schema.columns();
  // Keys seen so far, for duplicate detection without an allocation for common schemas.
  constexpr size_t kInlineSeen = 256;
  std::array<bool, kInlineSeen> seen_inline{};
  std::vector<bool> seen_heap(num_features > kInlineSeen ? num_features : 0);
  auto seen = [&](size_t i) -> bool {
    if (num_features <= kInlineSeen) return std::exchange(seen_inline[i], true);
    const bool was = seen_heap[i];
    seen_heap[i] = true;
    return was;
  };
  auto path = [](std::string_view key) {
    std::string p = "features.";
    p += key;
    return p;
  };
  // Producers usually send the features in the same order in every event: try the feature after
  // the previous one before the hash lookup.
  size_t guess = 0;
  for (auto field : object(e)) {
    size_t idx;
    if (guess < num_features && columns[guess].name == field.key) {
      idx = guess;
    } else {
      auto found = schema.FeatureIndex(field.key);
      if (!found) continue;  // Features that are not configured are ignored.
      idx = *found;
    }
    guess = idx + 1;
    Value& slot = ev->columns[idx];
    if (seen(idx)) return Failure{RejectReason::kInvalidValue, path(field.key) + ": duplicate key"};
    const element& v = field.value;
    if (v.type() == element_type::NULL_VALUE) continue;  // Missing, as if absent.
    if (columns[idx].type == FeatureType::kNumerical) {
      if (!IsNumber(v)) return WrongType(path(field.key), "number", v);
      slot.kind = Value::Kind::kNumber;
      slot.number = AsDouble(v);
    } else {
      auto text = ScalarText(v);
      if (!text) return WrongType(path(field.key), "string, number or boolean", v);
      if (auto problem = CategoryProblem(*text)) {
        return Failure{RejectReason::kInvalidValue, path(field.key) + ": " + *problem};
      }
      slot.kind = Value::Kind::kCategory;
      slot.category = std::move(*text);
    }
  }
  return std::nullopt;
}

std::optional<Failure> ReadScores(const ModelSchema& schema, const element& e,
                                  PredictionEvent* ev) {
  if (e.type() != element_type::OBJECT) return WrongType("scores", "object of class -> score", e);
  const size_t k = schema.config().classes.size();
  ev->class_scores.assign(k, NAN);
  size_t seen = 0;
  for (auto field : object(e)) {
    auto idx = schema.ClassIndex(field.key);
    const std::string path = "scores." + std::string(field.key);
    if (!idx) {
      return Failure{RejectReason::kUnknownClass,
                     "scores: unknown class \"" + std::string(field.key.substr(0, 64)) + "\""};
    }
    if (!IsNumber(field.value)) return WrongType(path, "number", field.value);
    double& slot = ev->class_scores[static_cast<size_t>(*idx)];
    if (!std::isnan(slot)) return Failure{RejectReason::kInvalidValue, path + ": duplicate key"};
    slot = AsDouble(field.value);
    ++seen;
  }
  if (seen != k) {
    return Failure{RejectReason::kMissingField,
                   "scores: expected a score for each of the " + std::to_string(k) + " classes"};
  }
  return std::nullopt;
}

class Validator {
 public:
  Validator(const EventParser& parser, std::optional<size_t> only_model)
      : parser_(parser), only_model_(only_model) {}

  // Resolves "model" of an event object.
  std::optional<Failure> Model(const object& obj, size_t* model) const {
    auto m = obj["model"];
    if (m.error() && only_model_) {
      *model = *only_model_;
      return std::nullopt;
    }
    if (m.error()) return Failure{RejectReason::kMissingField, "model: required"};
    if (m.value().type() != element_type::STRING) {
      return WrongType("model", "string", m.value());
    }
    std::string_view name(m.value());
    auto idx = parser_.ModelIndex(name);
    if (!idx) {
      std::string shown(name.substr(0, 64));
      return Failure{RejectReason::kUnknownModel, "model: unknown model \"" + shown + "\""};
    }
    if (only_model_ && *idx != *only_model_) {
      return Failure{RejectReason::kUnknownModel,
                     "model: expected \"" + parser_.schemas()[*only_model_]->name() + "\""};
    }
    *model = *idx;
    return std::nullopt;
  }

  std::optional<Failure> Prediction(const element& e, PredictionEvent* ev) const {
    if (e.type() != element_type::OBJECT) return WrongType("event", "object", e);
    object obj(e);
    if (auto f = Model(obj, &ev->model)) return f;
    const ModelSchema& schema = *parser_.schemas()[ev->model];
    ev->columns.assign(schema.columns().size(), Value{});
    bool has_features = false, has_prediction = false;
    for (auto field : obj) {
      const std::string_view key = field.key;
      const element& v = field.value;
      std::optional<Failure> f;
      if (key == "model") {
        continue;
      } else if (key == "model_version") {
        if (v.type() == element_type::NULL_VALUE) continue;
        auto text = ScalarText(v);
        if (!text || v.type() == element_type::BOOL) {
          f = WrongType("model_version", "string", v);
        } else if (text->empty() || text->size() > kMaxVersionLength) {
          f = Failure{RejectReason::kInvalidValue, "model_version: expected 1 to 128 characters"};
        } else {
          ev->model_version = std::move(*text);
        }
      } else if (key == "id") {
        if (v.type() != element_type::NULL_VALUE) f = ReadId(v, &ev->id);
      } else if (key == "timestamp") {
        if (v.type() != element_type::NULL_VALUE) f = ReadTimestamp(v, &ev->timestamp);
      } else if (key == "features") {
        has_features = true;
        f = ReadFeatures(schema, v, ev);
      } else if (key == "prediction") {
        has_prediction = true;
        if (schema.is_classification()) {
          f = ReadClass(schema, "prediction", v, &ev->predicted_class);
        } else if (!IsNumber(v)) {
          f = WrongType("prediction", "number", v);
        } else {
          ev->predicted_value = AsDouble(v);
        }
      } else if (key == "score") {
        if (v.type() == element_type::NULL_VALUE) continue;
        if (!IsNumber(v)) {
          f = WrongType("score", "number", v);
        } else {
          ev->score = AsDouble(v);
        }
      } else if (key == "scores") {
        if (v.type() == element_type::NULL_VALUE) continue;
        f = ReadScores(schema, v, ev);
      } else if (key == "latency_ms") {
        if (v.type() == element_type::NULL_VALUE) continue;
        if (!IsNumber(v)) {
          f = WrongType("latency_ms", "number", v);
        } else if (AsDouble(v) < 0) {
          f = Failure{RejectReason::kInvalidValue, "latency_ms: expected a non-negative number"};
        } else {
          ev->latency_ms = AsDouble(v);
        }
      } else if (key == "error") {
        if (v.type() == element_type::NULL_VALUE) continue;
        if (v.type() != element_type::BOOL) {
          f = WrongType("error", "boolean", v);
        } else {
          ev->error = bool(v) ? 1 : 0;
        }
      }
      // Unknown top-level keys are ignored so that producers can send extra context.
      if (f) return f;
    }
    if (!has_features) return Failure{RejectReason::kMissingField, "features: required"};
    if (!has_prediction) return Failure{RejectReason::kMissingField, "prediction: required"};
    if (schema.task() != Task::kBinaryClassification) ev->score = NAN;
    if (schema.task() != Task::kMulticlassClassification) ev->class_scores.clear();
    if (auto p = schema.prediction_column()) {
      Value& slot = ev->columns[*p];
      if (schema.is_classification()) {
        slot.kind = Value::Kind::kCategory;
        slot.category = schema.config().classes[static_cast<size_t>(ev->predicted_class)];
      } else {
        slot.kind = Value::Kind::kNumber;
        slot.number = ev->predicted_value;
      }
    }
    if (auto s = schema.score_column(); s && !std::isnan(ev->score)) {
      ev->columns[*s].kind = Value::Kind::kNumber;
      ev->columns[*s].number = ev->score;
    }
    return std::nullopt;
  }

  std::optional<Failure> GroundTruth(const element& e, GroundTruthEvent* ev) const {
    if (e.type() != element_type::OBJECT) return WrongType("event", "object", e);
    object obj(e);
    if (auto f = Model(obj, &ev->model)) return f;
    const ModelSchema& schema = *parser_.schemas()[ev->model];
    bool has_id = false, has_label = false;
    for (auto field : obj) {
      const std::string_view key = field.key;
      const element& v = field.value;
      std::optional<Failure> f;
      if (key == "id") {
        has_id = true;
        f = ReadId(v, &ev->id);
      } else if (key == "timestamp") {
        if (v.type() != element_type::NULL_VALUE) f = ReadTimestamp(v, &ev->timestamp);
      } else if (key == "label" || key == "value") {
        if (has_label) return Failure{RejectReason::kInvalidValue, "label: given twice"};
        has_label = true;
        if (schema.is_classification()) {
          f = ReadClass(schema, "label", v, &ev->label_class);
        } else if (!IsNumber(v)) {
          f = WrongType(std::string(key), "number", v);
        } else {
          ev->label_value = AsDouble(v);
        }
      }
      if (f) return f;
    }
    if (!has_id) return Failure{RejectReason::kMissingField, "id: required"};
    if (!has_label) {
      return Failure{RejectReason::kMissingField,
                     schema.is_classification() ? "label: required" : "value: required"};
    }
    return std::nullopt;
  }

 private:
  const EventParser& parser_;
  std::optional<size_t> only_model_;
};

std::string JsonError(simdjson::error_code code) {
  return std::string("invalid JSON: ") + simdjson::error_message(code);
}

template <typename Event, typename Validate>
ParsedBatch<Event> ParseBody(std::string_view body, BodyFormat format, size_t max_events,
                             Validate&& validate) {
  ParsedBatch<Event> batch;
  auto& parser = ThreadParser();
  auto one = [&](const element& e, size_t index) {
    Event ev;
    if (auto f = validate(e, &ev)) {
      batch.errors.push_back({index, f->reason, std::move(f->message)});
    } else {
      batch.events.push_back(std::move(ev));
    }
  };
  auto too_many = [&] {
    batch.events.clear();
    batch.errors.clear();
    batch.too_many_events = true;
    batch.body_error =
        "too many events in one request (at most " + std::to_string(max_events) + ")";
  };
  if (format == BodyFormat::kNdjson) {
    size_t pos = 0;
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
      const size_t index = batch.total++;
      if (batch.total > max_events) {
        too_many();
        return batch;
      }
      element e;
      auto err = parser.parse(line.data(), line.size(), true).get(e);
      if (err) {
        batch.errors.push_back({index, RejectReason::kInvalidJson, JsonError(err)});
        continue;
      }
      one(e, index);
    }
    if (batch.total == 0) batch.body_error = "empty body: expected one JSON object per line";
    return batch;
  }
  // An empty view may have a null data(), which simdjson must not see.
  if (body.empty()) {
    batch.body_error = "empty body: expected a JSON object, an array of objects or NDJSON";
    return batch;
  }
  element root;
  auto err = parser.parse(body.data(), body.size(), true).get(root);
  if (err) {
    batch.body_error =
        JsonError(err) + " (for one object per line use Content-Type: application/x-ndjson)";
    return batch;
  }
  if (root.type() == element_type::ARRAY) {
    simdjson::dom::array arr(root);
    if (arr.size() > max_events) {
      batch.total = arr.size();
      too_many();
      return batch;
    }
    batch.events.reserve(arr.size());
    for (element e : arr) one(e, batch.total++);
    return batch;
  }
  if (root.type() != element_type::OBJECT) {
    batch.body_error =
        std::string("expected a JSON object or an array of objects, got ") + TypeName(root);
    return batch;
  }
  one(root, batch.total++);
  return batch;
}

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date.
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

}  // namespace

EventParser::EventParser(std::vector<std::shared_ptr<const ModelSchema>> schemas)
    : schemas_(std::move(schemas)) {
  for (size_t i = 0; i < schemas_.size(); ++i) model_index_.emplace(schemas_[i]->name(), i);
}

std::optional<size_t> EventParser::ModelIndex(std::string_view name) const {
  auto it = model_index_.find(name);
  if (it == model_index_.end()) return std::nullopt;
  return it->second;
}

ParsedBatch<PredictionEvent> EventParser::ParsePredictions(std::string_view body, BodyFormat format,
                                                           size_t max_events,
                                                           std::optional<size_t> only_model) const {
  Validator v(*this, only_model);
  return ParseBody<PredictionEvent>(
      body, format, max_events,
      [&](const element& e, PredictionEvent* ev) { return v.Prediction(e, ev); });
}

ParsedBatch<GroundTruthEvent> EventParser::ParseGroundTruth(std::string_view body,
                                                            BodyFormat format,
                                                            size_t max_events) const {
  Validator v(*this, std::nullopt);
  return ParseBody<GroundTruthEvent>(
      body, format, max_events,
      [&](const element& e, GroundTruthEvent* ev) { return v.GroundTruth(e, ev); });
}

std::optional<double> ParseRfc3339(std::string_view s) {
  int year, month, day, hour, minute, second;
  if (!Digits(s, 0, 4, &year) || s.size() < 20 || s[4] != '-' || !Digits(s, 5, 2, &month) ||
      s[7] != '-' || !Digits(s, 8, 2, &day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !Digits(s, 11, 2, &hour) || s[13] != ':' || !Digits(s, 14, 2, &minute) || s[16] != ':' ||
      !Digits(s, 17, 2, &second)) {
    return std::nullopt;
  }
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (month < 1 || month > 12 || day < 1 || day > kDays[month - 1] ||
      (month == 2 && day == 29 && !leap) || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  size_t pos = 19;
  double fraction = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    double scale = 0.1;
    size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      fraction += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start || pos - start > 12) return std::nullopt;
  }
  int offset = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!Digits(s, pos + 1, 2, &oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !Digits(s, pos + 4, 2, &om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset = (oh * 60 + om) * 60 * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  const int64_t days = DaysFromCivil(year, month, day);
  const int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - offset;
  return static_cast<double>(secs) + fraction;
}

}  // namespace modelmon::ingest
