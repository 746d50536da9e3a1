#include "state/snapshot_codec.h"

#include <cmath>
#include <utility>

namespace modelmon::state::snapshot_codec {
namespace {

void EncodeSample(Writer& w, const SampleSnapshot& s) {
  w.U64(s.rows);
  w.Count(s.numbers.size());
  for (const auto& column : s.numbers) {
    w.Count(column.size());
    for (const auto& [value, count] : column) {
      w.F64(value);
      w.I64(count);
    }
  }
  w.Count(s.categories.size());
  for (const auto& column : s.categories) {
    w.Count(column.size());
    for (const auto& [name, count] : column) {
      w.Str(name);
      w.I64(count);
    }
  }
}

SampleSnapshot DecodeSample(Reader& r) {
  SampleSnapshot s;
  s.rows = r.U64();
  if (s.rows > kMaxSampleValues) r.Fail();
  s.numbers.resize(r.Count(4));
  uint64_t expanded = 0;  // Values of every column together.
  for (auto& column : s.numbers) {
    column.resize(r.Count(16));
    uint64_t total = 0;
    for (auto& [value, count] : column) {
      value = r.F64();
      count = r.I64();
      if (count < 1 || static_cast<uint64_t>(count) > s.rows) r.Fail();
      total += static_cast<uint64_t>(count);
      expanded += static_cast<uint64_t>(count);
      if (total > s.rows || expanded > kMaxSampleValues) r.Fail();
    }
  }
  s.categories.resize(r.Count(4));
  for (auto& column : s.categories) {
    column.resize(r.Count(12));
    for (auto& [name, count] : column) {
      name = r.Str();
      count = r.I64();
      if (count < 1) r.Fail();
    }
  }
  return s;
}

}  // namespace

void EncodeModel(Writer& w, const ModelSnapshot& m) {
  w.Str(m.name);
  w.U64(m.fingerprint);
  w.Str(m.reference_key);
  w.Str(m.reference_source);
  w.U8(m.reference ? 1 : 0);
  if (m.reference) EncodeSample(w, *m.reference);
  w.U8(m.capture ? 1 : 0);
  if (m.capture) EncodeSample(w, *m.capture);
  w.Count(m.window_ages_ns.size());
  for (int64_t age : m.window_ages_ns) w.I64(age);
  w.Count(m.window_columns.size());
  for (const WindowColumnSnapshot& c : m.window_columns) {
    w.Doubles(c.numbers);
    w.Count(c.ids.size());
    for (uint32_t id : c.ids) w.U32(id);
    w.Count(c.names.size());
    for (const std::string& n : c.names) w.Str(n);
  }
  w.Count(m.versions.size());
  for (const std::string& v : m.versions) w.Str(v);
  w.Count(m.pending_predictions.size());
  for (const PendingPredictionSnapshot& p : m.pending_predictions) {
    w.Str(p.id);
    w.I64(p.age_ns);
    w.Str(p.prediction.version);
    w.I32(p.prediction.predicted_class);
    w.F64(p.prediction.predicted_value);
    w.F64(p.prediction.score);
    w.Doubles(p.prediction.class_scores);
  }
  w.Count(m.pending_labels.size());
  for (const PendingLabelSnapshot& l : m.pending_labels) {
    w.Str(l.id);
    w.I64(l.age_ns);
    w.I32(l.label.label_class);
    w.F64(l.label.value);
  }
  w.Count(m.joined_ids.size());
  for (const std::string& id : m.joined_ids) w.Str(id);
  w.Count(m.performance.size());
  for (const auto& [version, pairs] : m.performance) {
    w.Str(version);
    w.Count(pairs.size());
    for (const JoinedPairSnapshot& p : pairs) {
      w.I64(p.age_ns);
      w.I32(p.label);
      w.I32(p.predicted);
      w.F64(p.score);
      w.Doubles(p.class_scores);
      w.F64(p.y_true);
      w.F64(p.y_pred);
    }
  }
  w.Count(m.baseline.size());
  for (const auto& [metric, value] : m.baseline) {
    w.Str(metric);
    w.F64(value);
  }
}

ModelSnapshot DecodeModel(Reader& r) {
  ModelSnapshot m;
  m.name = r.Str();
  m.fingerprint = r.U64();
  m.reference_key = r.Str();
  m.reference_source = r.Str();
  if (r.Bool()) m.reference = DecodeSample(r);
  if (r.Bool()) m.capture = DecodeSample(r);
  m.window_ages_ns.resize(r.Count(8));
  for (int64_t& age : m.window_ages_ns) age = r.Age();
  m.window_columns.resize(r.Count(12));
  for (WindowColumnSnapshot& c : m.window_columns) {
    c.numbers = r.Doubles();
    c.ids.resize(r.Count(4));
    for (uint32_t& id : c.ids) id = r.U32();
    c.names.resize(r.Count(4));
    for (std::string& n : c.names) n = r.Str();
    for (uint32_t id : c.ids) {
      if (id != WindowColumnSnapshot::kMissingCategory && id >= c.names.size()) r.Fail();
    }
    // A column is numerical or categorical, and holds one value per windowed event.
    if ((!c.numbers.empty() && !c.ids.empty()) ||
        c.numbers.size() + c.ids.size() != m.window_ages_ns.size()) {
      r.Fail();
    }
  }
  m.versions.resize(r.Count(4));
  for (std::string& v : m.versions) v = r.Str();
  m.pending_predictions.resize(r.Count(40));
  for (PendingPredictionSnapshot& p : m.pending_predictions) {
    p.id = r.Str();
    p.age_ns = r.Age();
    p.prediction.version = r.Str();
    p.prediction.predicted_class = r.I32();
    p.prediction.predicted_value = r.F64();
    p.prediction.score = r.F64();
    p.prediction.class_scores = r.Doubles();
  }
  m.pending_labels.resize(r.Count(24));
  for (PendingLabelSnapshot& l : m.pending_labels) {
    l.id = r.Str();
    l.age_ns = r.Age();
    l.label.label_class = r.I32();
    l.label.value = r.F64();
  }
  m.joined_ids.resize(r.Count(4));
  for (std::string& id : m.joined_ids) id = r.Str();
  m.performance.resize(r.Count(8));
  for (auto& [version, pairs] : m.performance) {
    version = r.Str();
    pairs.resize(r.Count(44));
    for (JoinedPairSnapshot& p : pairs) {
      p.age_ns = r.Age();
      p.label = r.I32();
      p.predicted = r.I32();
      p.score = r.F64();
      p.class_scores = r.Doubles();
      p.y_true = r.F64();
      p.y_pred = r.F64();
    }
  }
  const size_t baselines = r.Count(12);
  for (size_t i = 0; i < baselines && r.ok(); ++i) {
    std::string metric = r.Str();
    m.baseline[std::move(metric)] = r.F64();
  }
  return m;
}

void EncodeAlerts(Writer& w, const std::vector<AlertSnapshot>& alerts) {
  w.Count(alerts.size());
  for (const AlertSnapshot& a : alerts) {
    w.Str(a.rule);
    w.U64(a.rule_fingerprint);
    w.Labels(a.labels);
    w.U8(a.firing ? 1 : 0);
    w.I64(a.active_age_ns);
    w.U8(a.fired_age_ns ? 1 : 0);
    w.I64(a.fired_age_ns.value_or(0));
    w.F64(a.last_value);
  }
}

std::vector<AlertSnapshot> DecodeAlerts(Reader& r) {
  std::vector<AlertSnapshot> alerts(r.Count(38));
  for (AlertSnapshot& a : alerts) {
    a.rule = r.Str();
    a.rule_fingerprint = r.U64();
    a.labels = r.Labels();
    a.firing = r.Bool();
    a.active_age_ns = r.Age();
    const bool fired = r.Bool();
    const int64_t fired_age = r.Age();
    if (fired) a.fired_age_ns = fired_age;
    a.last_value = r.F64();
  }
  return alerts;
}

void EncodeCounters(Writer& w, const std::vector<CounterSnapshot>& counters) {
  w.Count(counters.size());
  for (const CounterSnapshot& c : counters) {
    w.Str(c.name);
    w.Labels(c.labels);
    w.F64(c.value);
  }
}

std::vector<CounterSnapshot> DecodeCounters(Reader& r) {
  std::vector<CounterSnapshot> counters(r.Count(16));
  for (CounterSnapshot& c : counters) {
    c.name = r.Str();
    c.labels = r.Labels();
    c.value = r.F64();
    if (!std::isfinite(c.value) || c.value < 0) r.Fail();
  }
  return counters;
}

}  // namespace modelmon::state::snapshot_codec
