#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "state/model_state.h"

namespace modelmon::state {
namespace {

int64_t AgeNs(std::chrono::steady_clock::time_point now, std::chrono::steady_clock::time_point t) {
  return std::max<int64_t>(0,
                           std::chrono::duration_cast<std::chrono::nanoseconds>(now - t).count());
}

}  // namespace

ModelSnapshot ModelState::ExportSnapshot(std::chrono::steady_clock::time_point now) const {
  std::lock_guard<std::mutex> lock(mu_);
  return ExportSnapshotLocked(now);
}

std::vector<ModelSnapshot> ModelState::ExportSnapshots(
    const std::vector<std::unique_ptr<ModelState>>& models,
    std::chrono::steady_clock::time_point now, const std::function<void()>& at_cut) {
  std::vector<std::unique_lock<std::mutex>> locks;
  locks.reserve(models.size());
  for (const auto& model : models) locks.emplace_back(model->mu_);
  std::vector<ModelSnapshot> out;
  out.reserve(models.size());
  for (const auto& model : models) out.push_back(model->ExportSnapshotLocked(now));
  at_cut();
  return out;
}

ModelSnapshot ModelState::ExportSnapshotLocked(std::chrono::steady_clock::time_point now) const {
  ModelSnapshot m;
  m.name = schema_->name();
  m.fingerprint = ModelFingerprint(*schema_);
  m.reference_key = ReferenceKey(schema_->config());
  const size_t num_columns = schema_->columns().size();
  if (columns_.has_reference()) {
    m.reference_source = reference_source_;
    SampleSnapshot& r = m.reference.emplace();
    r.rows = reference_rows_;
    r.numbers.resize(num_columns);
    r.categories.resize(num_columns);
    for (size_t c = 0; c < num_columns; ++c) {
      if (const detectors::NumericalReference* ref = columns_.numerical_reference(c)) {
        const auto values = ref->distinct_values();
        const auto counts = ref->distinct_counts();
        for (size_t i = 0; i < values.size() && i < counts.size(); ++i) {
          r.numbers[c].emplace_back(values[i], counts[i]);
        }
      } else if (c < reference_categories_.size()) {
        r.categories[c] = reference_categories_[c];
      }
    }
  }
  if (capture_) {
    SampleSnapshot& r = m.capture.emplace();
    r.rows = capture_->rows();
    r.numbers.resize(num_columns);
    r.categories.resize(num_columns);
    for (size_t c = 0; c < num_columns; ++c) {
      if (schema_->columns()[c].type == FeatureType::kNumerical) {
        for (double v : capture_->numerical(c)) r.numbers[c].emplace_back(v, 1);
      } else {
        r.categories[c] = capture_->CategoryCounts(c);
      }
    }
  }
  DriftColumns::WindowExport window = columns_.ExportWindow();
  m.window_ages_ns.reserve(window.arrivals.size());
  for (const auto& at : window.arrivals) m.window_ages_ns.push_back(AgeNs(now, at));
  for (auto& column : window.columns) {
    WindowColumnSnapshot& out = m.window_columns.emplace_back();
    out.numbers = std::move(column.numbers);
    out.ids = std::move(column.ids);
    out.names = std::move(column.names);
  }
  m.versions = metrics_.VersionNames();
  join_.ForEachPendingPrediction(
      [&](const std::string& id, const PendingPrediction& p, JoinStore::TimePoint at) {
        m.pending_predictions.push_back({id, AgeNs(now, at), p});
      });
  join_.ForEachPendingLabel(
      [&](const std::string& id, const PendingLabel& l, JoinStore::TimePoint at) {
        m.pending_labels.push_back({id, AgeNs(now, at), l});
      });
  join_.ForEachJoinedId([&](const std::string& id) { m.joined_ids.push_back(id); });
  for (auto& [version, pairs] : performance_.ExportWindows()) {
    auto& out = m.performance.emplace_back(version, std::vector<JoinedPairSnapshot>());
    out.second.reserve(pairs.size());
    for (JoinedPair& p : pairs) {
      out.second.push_back({AgeNs(now, p.joined_at), p.classification.label,
                            p.classification.predicted, p.classification.score,
                            std::move(p.classification.class_scores), p.y_true, p.y_pred});
    }
  }
  m.baseline = performance_.LearnedBaseline();
  return m;
}

size_t ModelState::ImportSnapshot(const ModelSnapshot& m, std::chrono::nanoseconds downtime) {
  const auto now = clock_->Now();
  const auto at = [&](int64_t age_ns) { return now - downtime - std::chrono::nanoseconds(age_ns); };
  const auto& schema_columns = schema_->columns();
  const size_t num_columns = schema_columns.size();
  const bool same_reference = m.reference_key == ReferenceKey(schema_->config());
  const auto sample_fits = [&](const SampleSnapshot& s) {
    if (s.numbers.size() != num_columns || s.categories.size() != num_columns) return false;
    for (size_t c = 0; c < num_columns; ++c) {
      const bool numerical = schema_columns[c].type == FeatureType::kNumerical;
      if ((numerical && !s.categories[c].empty()) || (!numerical && !s.numbers[c].empty())) {
        return false;
      }
    }
    return true;
  };
  const auto to_reference = [&](const SampleSnapshot& s) {
    ReferenceData data(*schema_);
    for (size_t c = 0; c < num_columns; ++c) {
      for (const auto& [value, count] : s.numbers[c]) {
        for (int64_t i = 0; i < count; ++i) data.AddNumber(c, value);
      }
      for (const auto& [name, count] : s.categories[c]) data.AddCategory(c, name, count);
    }
    data.set_rows(static_cast<size_t>(s.rows));
    return data;
  };
  const size_t k = schema_->config().classes.size();
  const auto valid_class = [&](int32_t cls) {
    return !schema_->is_classification() || (cls >= 0 && static_cast<size_t>(cls) < k);
  };
  const auto valid_scores = [&](const std::vector<double>& scores) {
    return scores.empty() || scores.size() == k;
  };

  std::lock_guard<std::mutex> lock(mu_);
  // The reference: one from the configured file was loaded again at start; others are restored
  // while the configured reference is the same.
  if (same_reference && m.reference && m.reference_source != "file" && sample_fits(*m.reference)) {
    capture_.reset();
    SetReferenceLocked(to_reference(*m.reference), m.reference_source);
  } else if (same_reference && m.capture && capture_ && !columns_.has_reference() &&
             sample_fits(*m.capture)) {
    capture_ = to_reference(*m.capture);
  }
  // The window, oldest first.
  size_t restored = 0;
  bool window_fits = m.window_columns.size() == num_columns;
  for (size_t c = 0; window_fits && c < num_columns; ++c) {
    const WindowColumnSnapshot& column = m.window_columns[c];
    const bool numerical = schema_columns[c].type == FeatureType::kNumerical;
    const size_t n = numerical ? column.numbers.size() : column.ids.size();
    window_fits = n == m.window_ages_ns.size();
  }
  if (window_fits) {
    ingest::PredictionEvent ev;
    ev.columns.resize(num_columns);
    std::vector<uint8_t> flags;
    std::vector<uint32_t> bins;
    for (size_t i = 0; i < m.window_ages_ns.size(); ++i) {
      for (size_t c = 0; c < num_columns; ++c) {
        const WindowColumnSnapshot& column = m.window_columns[c];
        ingest::Value& v = ev.columns[c];
        v.kind = ingest::Value::Kind::kMissing;
        if (schema_columns[c].type == FeatureType::kNumerical) {
          if (std::isfinite(column.numbers[i])) {
            v.kind = ingest::Value::Kind::kNumber;
            v.number = column.numbers[i];
          }
        } else if (column.ids[i] < column.names.size()) {
          v.kind = ingest::Value::Kind::kCategory;
          v.category = column.names[column.ids[i]];
        }
      }
      columns_.Add(ev, at(m.window_ages_ns[i]), &flags, &bins);
      ++restored;
    }
  }
  for (const std::string& version : m.versions) metrics_.Version(version);
  // Pending joins: remembered ids first, so that duplicates are still recognised.
  for (const std::string& id : m.joined_ids) join_.RestoreJoinedId(id);
  for (const PendingPredictionSnapshot& p : m.pending_predictions) {
    const PendingPrediction& pending = p.prediction;
    if (p.id.empty() || !valid_class(pending.predicted_class) ||
        !valid_scores(pending.class_scores)) {
      continue;
    }
    join_.AddPrediction(p.id, pending, at(p.age_ns));
  }
  for (const PendingLabelSnapshot& l : m.pending_labels) {
    if (l.id.empty() || !valid_class(l.label.label_class)) continue;
    join_.AddLabel(l.id, l.label, at(l.age_ns));
  }
  // Performance windows: at most the versions a running model can have, plus "__all__".
  size_t windows = 0;
  for (const auto& [version, pairs] : m.performance) {
    if (++windows > schema_->config().max_versions + 2) break;
    std::vector<JoinedPair> restored_pairs;
    restored_pairs.reserve(pairs.size());
    for (const JoinedPairSnapshot& p : pairs) {
      if (!valid_class(p.label) || !valid_class(p.predicted) || !valid_scores(p.class_scores)) {
        continue;
      }
      JoinedPair pair;
      pair.joined_at = at(p.age_ns);
      pair.classification.label = p.label;
      pair.classification.predicted = p.predicted;
      pair.classification.score = p.score;
      pair.classification.class_scores = p.class_scores;
      pair.y_true = p.y_true;
      pair.y_pred = p.y_pred;
      restored_pairs.push_back(std::move(pair));
    }
    performance_.ImportWindow(version, std::move(restored_pairs));
  }
  performance_.ImportBaseline(m.baseline);
  metrics_.SetLiveSizes(columns_.size(), join_.pending_predictions(), join_.pending_labels());
  return restored;
}

}  // namespace modelmon::state
