#include "state/snapshot_validation.h"

#include <cmath>
#include <cstdint>
#include <set>
#include <string>
#include <utility>

namespace modelmon::state {
namespace {

// The learned-baseline vocabulary: PerformanceWindows' headline metrics.
constexpr std::string_view kBaselineMetrics[] = {"accuracy", "precision", "recall", "f1",
                                                 "roc_auc",  "log_loss",  "mae",    "mse",
                                                 "rmse",     "r2",        "mape",   "mean_error"};
// Where a reference can come from (ModelState::SetReference callers); "" when there is none.
constexpr std::string_view kReferenceSources[] = {"", "file", "upload", "capture", "promote"};

template <size_t N>
bool OneOf(std::string_view value, const std::string_view (&set)[N]) {
  for (std::string_view v : set) {
    if (v == value) return true;
  }
  return false;
}

// Collects the first failure; every check returns false once one failed.
class Checker {
 public:
  explicit Checker(std::string* error) : error_(error) {}

  bool ok() const { return ok_; }

  bool Fail(const std::string& where, const char* what) {
    if (ok_) {
      ok_ = false;
      *error_ = where;
      *error_ += ": ";
      *error_ += what;
    }
    return false;
  }
  bool Check(bool condition, const std::string& where, const char* what) {
    return condition || Fail(where, what);
  }
  // UTF-8 text of min_bytes to max_bytes.
  bool Text(std::string_view text, size_t min_bytes, size_t max_bytes, const std::string& where) {
    if (text.size() < min_bytes || text.size() > max_bytes)
      return Fail(where, "length out of range");
    return Check(IsValidUtf8(text), where, "not valid UTF-8");
  }
  bool Name(std::string_view name, const std::string& where) {
    return Check(IsValidSnapshotName(name), where, "not a valid name ([A-Za-z0-9_.:-], 1-128)");
  }
  bool Finite(double v, const std::string& where) {
    return Check(std::isfinite(v), where, "not a finite number");
  }
  // Finite, or NaN where NaN means "absent".
  bool FiniteOrNan(double v, const std::string& where) {
    return Check(std::isfinite(v) || std::isnan(v), where, "infinite number");
  }
  bool Labels(const std::map<std::string, std::string>& labels, const std::string& where) {
    for (const auto& [name, value] : labels) {
      if (!Check(IsValidLabelName(name), where, "invalid label name")) return false;
      if (!Text(value, 0, kMaxSnapshotLabelBytes, where + " label " + name)) return false;
    }
    return true;
  }

 private:
  std::string* error_;
  bool ok_ = true;
};

std::string Where(const std::string& prefix, const char* field, size_t index) {
  std::string s = prefix;
  s += field;
  s += '[';
  s += std::to_string(index);
  s += ']';
  return s;
}

void CheckSample(Checker& k, const SampleSnapshot& s, const std::string& where) {
  for (size_t c = 0; c < s.numbers.size() && k.ok(); ++c) {
    for (const auto& [value, count] : s.numbers[c]) {
      if (!k.Finite(value, Where(where, ".numbers", c))) return;
    }
  }
  for (size_t c = 0; c < s.categories.size() && k.ok(); ++c) {
    const std::string column = Where(where, ".categories", c);
    std::set<std::string_view> seen;
    uint64_t total = 0;
    for (const auto& [name, count] : s.categories[c]) {
      if (!k.Text(name, 0, kMaxSnapshotCategoryBytes, column)) return;
      if (!k.Check(seen.insert(name).second, column, "duplicate category")) return;
      total += static_cast<uint64_t>(count);  // count >= 1, checked by the decoder.
      if (!k.Check(count > 0 && total <= s.rows, column, "category counts exceed the rows")) return;
    }
  }
}

void CheckModel(Checker& k, const ModelSnapshot& m, size_t index) {
  const std::string where = Where("", "models", index);
  if (!k.Name(m.name, where + ".name")) return;
  const std::string model = "model " + m.name;
  k.Text(m.reference_key, 0, kMaxSnapshotPathBytes, model + " reference key");
  k.Check(OneOf(m.reference_source, kReferenceSources), model + " reference source",
          "not a known source");
  k.Check(m.reference_source.empty() == !m.reference.has_value(), model + " reference source",
          "disagrees with the reference");
  if (m.reference) CheckSample(k, *m.reference, model + " reference");
  if (m.capture) CheckSample(k, *m.capture, model + " capture");
  for (size_t c = 0; c < m.window_columns.size() && k.ok(); ++c) {
    const WindowColumnSnapshot& column = m.window_columns[c];
    const std::string cw = Where(model + " window", ".columns", c);
    for (double v : column.numbers) {
      if (!k.FiniteOrNan(v, cw)) return;
    }
    std::set<std::string_view> names;
    for (const std::string& n : column.names) {
      if (!k.Text(n, 0, kMaxSnapshotCategoryBytes, cw + " category")) return;
      if (!k.Check(names.insert(n).second, cw, "duplicate category in the dictionary")) return;
    }
  }
  std::set<std::string_view> versions;
  for (const std::string& v : m.versions) {
    if (!k.Text(v, 0, kMaxSnapshotVersionBytes, model + " version")) return;
    if (!k.Check(versions.insert(v).second, model + " version", "listed twice")) return;
  }
  std::set<std::string_view> ids;
  for (const PendingPredictionSnapshot& p : m.pending_predictions) {
    const std::string pw = model + " pending prediction";
    if (!k.Text(p.id, 1, kMaxSnapshotIdBytes, pw + " id")) return;
    if (!k.Check(ids.insert(p.id).second, pw + " id", "listed twice")) return;
    if (!k.Text(p.prediction.version, 0, kMaxSnapshotVersionBytes, pw + " version")) return;
    if (!k.Finite(p.prediction.predicted_value, pw + " value")) return;
    if (!k.FiniteOrNan(p.prediction.score, pw + " score")) return;
    for (double s : p.prediction.class_scores) {
      if (!k.Finite(s, pw + " class score")) return;
    }
  }
  // A prediction and a label with one id would have joined, and a joined id is a duplicate for
  // both: the three id sets are disjoint.
  const std::set<std::string_view> prediction_ids = std::move(ids);
  std::set<std::string_view> label_ids;
  for (const PendingLabelSnapshot& l : m.pending_labels) {
    const std::string lw = model + " pending label";
    if (!k.Text(l.id, 1, kMaxSnapshotIdBytes, lw + " id")) return;
    if (!k.Check(label_ids.insert(l.id).second, lw + " id", "listed twice")) return;
    if (!k.Check(prediction_ids.count(l.id) == 0, lw + " id", "also a pending prediction")) return;
    if (!k.Finite(l.label.value, lw + " value")) return;
  }
  std::set<std::string_view> joined;
  for (const std::string& id : m.joined_ids) {
    if (!k.Text(id, 1, kMaxSnapshotIdBytes, model + " joined id")) return;
    if (!k.Check(joined.insert(id).second, model + " joined id", "listed twice")) return;
    if (!k.Check(prediction_ids.count(id) == 0 && label_ids.count(id) == 0, model + " joined id",
                 "also pending")) {
      return;
    }
  }
  std::set<std::string_view> windows;
  for (const auto& [version, pairs] : m.performance) {
    const std::string ww = model + " performance window";
    if (!k.Text(version, 0, kMaxSnapshotVersionBytes, ww)) return;
    if (!k.Check(windows.insert(version).second, ww, "listed twice")) return;
    for (const JoinedPairSnapshot& p : pairs) {
      if (!k.FiniteOrNan(p.score, ww + " score") || !k.Finite(p.y_true, ww + " y_true") ||
          !k.Finite(p.y_pred, ww + " y_pred")) {
        return;
      }
      for (double s : p.class_scores) {
        if (!k.Finite(s, ww + " class score")) return;
      }
    }
  }
  for (const auto& [metric, value] : m.baseline) {
    if (!k.Check(OneOf(metric, kBaselineMetrics), model + " baseline", "not a known metric")) {
      return;
    }
    if (!k.FiniteOrNan(value, model + " baseline " + metric)) return;
  }
}

}  // namespace

bool IsValidUtf8(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    const unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    size_t n = 0;
    uint32_t cp = 0;
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
      cp = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      cp = c & 0x0Fu;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      cp = c & 0x07u;
    } else {
      return false;  // A continuation byte, an overlong lead (C0, C1) or past U+10FFFF.
    }
    if (static_cast<size_t>(end - p) <= n) return false;
    for (size_t i = 1; i <= n; ++i) {
      if ((p[i] & 0xC0u) != 0x80u) return false;
      cp = (cp << 6) | (p[i] & 0x3Fu);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    p += n + 1;
  }
  return true;
}

bool IsValidSnapshotName(std::string_view name) {
  if (name.empty() || name.size() > kMaxSnapshotNameBytes) return false;
  for (char c : name) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool IsValidLabelName(std::string_view name) {
  if (name.empty() || name.size() > kMaxSnapshotNameBytes) return false;
  if (name.size() >= 2 && name[0] == '_' && name[1] == '_') return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

bool ValidateSnapshot(const Snapshot& s, std::string* error) {
  Checker k(error);
  k.Check(std::isfinite(s.wall_time) && s.wall_time >= 0, "meta", "wall time out of range");
  std::set<std::string_view> models;
  for (size_t i = 0; i < s.models.size() && k.ok(); ++i) {
    CheckModel(k, s.models[i], i);
    k.Check(models.insert(s.models[i].name).second, "model " + s.models[i].name, "listed twice");
  }
  std::set<std::map<std::string, std::string>> alert_labels;
  for (size_t i = 0; i < s.alerts.size() && k.ok(); ++i) {
    const AlertSnapshot& a = s.alerts[i];
    const std::string where = Where("", "alerts", i);
    if (!k.Name(a.rule, where + ".rule") || !k.Labels(a.labels, where)) break;
    const auto name = a.labels.find("alertname");
    k.Check(name != a.labels.end() && name->second == a.rule, where, "alertname is not the rule");
    k.Check(alert_labels.insert(a.labels).second, where, "label set listed twice");
    k.Check(a.firing == a.fired_age_ns.has_value(), where, "firing state disagrees with its time");
    k.Check(!a.fired_age_ns || *a.fired_age_ns <= a.active_age_ns, where,
            "fired before it became active");
    k.Check(!std::isnan(a.last_value), where, "last value is NaN");
  }
  std::set<std::pair<std::string_view, std::map<std::string, std::string>>> series;
  for (size_t i = 0; i < s.counters.size() && k.ok(); ++i) {
    const CounterSnapshot& c = s.counters[i];
    const std::string where = Where("", "counters", i);
    const bool name_ok = c.name.rfind("modelmon_", 0) == 0 && IsValidLabelName(c.name) &&
                         c.name.size() > 6 && c.name.compare(c.name.size() - 6, 6, "_total") == 0;
    if (!k.Check(name_ok, where, "not a modelmon counter name") || !k.Labels(c.labels, where)) {
      break;
    }
    const auto model = c.labels.find("model");
    k.Check(model == c.labels.end() || IsValidSnapshotName(model->second), where,
            "model label is not a valid name");
    k.Check(series.emplace(c.name, c.labels).second, where, "series listed twice");
  }
  return k.ok();
}

bool ValidateModelSnapshot(const ModelSnapshot& m, const ingest::ModelSchema& schema,
                           std::string* error) {
  Checker k(error);
  const ModelConfig& config = schema.config();
  const std::string model = "model " + m.name;
  const auto& columns = schema.columns();
  const size_t num_columns = columns.size();
  const auto sample_fits = [&](const SampleSnapshot& s, const std::string& where) {
    if (!k.Check(s.numbers.size() == num_columns && s.categories.size() == num_columns, where,
                 "column count differs from the schema")) {
      return;
    }
    for (size_t c = 0; c < num_columns; ++c) {
      const bool numerical = columns[c].type == FeatureType::kNumerical;
      if (!k.Check(numerical ? s.categories[c].empty() : s.numbers[c].empty(),
                   Where(where, ".columns", c), "values of the wrong type")) {
        return;
      }
    }
  };
  if (m.reference) sample_fits(*m.reference, model + " reference");
  if (m.capture) {
    sample_fits(*m.capture, model + " capture");
    k.Check(m.capture->rows < config.reference.capture || config.reference.capture == 0,
            model + " capture", "more rows than the configured capture");
  }
  // The window: one column per schema column, each of the column's type, within the capacity.
  k.Check(m.window_ages_ns.size() <= config.window.size, model + " window",
          "more events than window.size");
  if (k.Check(m.window_columns.size() == num_columns, model + " window",
              "column count differs from the schema")) {
    const size_t dictionary_limit = 4 * config.drift.max_categories + 1024 + 1;
    for (size_t c = 0; c < num_columns && k.ok(); ++c) {
      const WindowColumnSnapshot& column = m.window_columns[c];
      const std::string cw = Where(model + " window", ".columns", c);
      const bool numerical = columns[c].type == FeatureType::kNumerical;
      const size_t n = numerical ? column.numbers.size() : column.ids.size();
      k.Check(n == m.window_ages_ns.size(), cw, "value count differs from the event count");
      k.Check(!numerical || column.names.empty(), cw, "categories in a numerical column");
      k.Check(column.names.size() <= dictionary_limit, cw, "dictionary larger than its limit");
    }
  }
  k.Check(m.versions.size() <= config.max_versions + 1, model + " versions",
          "more than max_versions");
  const PerformanceConfig& p = config.performance;
  k.Check(m.pending_predictions.size() <= p.max_pending, model + " pending predictions",
          "more than max_pending");
  k.Check(m.pending_labels.size() <= p.max_pending_labels, model + " pending labels",
          "more than max_pending_labels");
  k.Check(m.joined_ids.size() <= p.max_pending, model + " joined ids", "more than max_pending");
  k.Check(m.performance.size() <= config.max_versions + 2, model + " performance windows",
          "more than max_versions + 2");
  const size_t classes = config.classes.size();
  const bool classification = schema.is_classification();
  const auto valid_class = [&](int32_t cls) {
    return !classification || (cls >= 0 && static_cast<size_t>(cls) < classes);
  };
  const auto valid_scores = [&](const std::vector<double>& scores) {
    return scores.empty() || (classification && scores.size() == classes);
  };
  for (const PendingPredictionSnapshot& pending : m.pending_predictions) {
    if (!k.ok()) break;
    k.Check(valid_class(pending.prediction.predicted_class) &&
                valid_scores(pending.prediction.class_scores),
            model + " pending prediction " + pending.id, "does not fit the classes");
  }
  for (const PendingLabelSnapshot& label : m.pending_labels) {
    if (!k.ok()) break;
    k.Check(valid_class(label.label.label_class), model + " pending label " + label.id,
            "does not fit the classes");
  }
  for (const auto& [version, pairs] : m.performance) {
    if (!k.ok()) break;
    const std::string ww = model + " performance window " + version;
    k.Check(pairs.size() <= p.window_size, ww, "more pairs than window_size");
    for (const JoinedPairSnapshot& pair : pairs) {
      if (!k.Check(valid_class(pair.label) && valid_class(pair.predicted) &&
                       valid_scores(pair.class_scores),
                   ww, "a pair does not fit the classes")) {
        break;
      }
    }
  }
  return k.ok();
}

}  // namespace modelmon::state
