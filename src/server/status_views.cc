#include "server/status_views.h"

#include <cmath>
#include <utility>

namespace modelmon::server {
namespace {

using nlohmann::json;

json Finite(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json ColumnJson(const state::ColumnResult& c) {
  json j;
  j["name"] = c.name;
  j["type"] = FeatureTypeName(c.type);
  if (c.is_prediction) j["pseudo_feature"] = true;
  j["status"] = c.status;
  j["window_samples"] = c.window_samples;
  j["reference_samples"] = c.reference_samples;
  j["drift_detected"] = c.drifted;
  json tests = json::array();
  for (const auto& t : c.tests) {
    json tj{{"test", t.test},
            {"statistic", Finite(t.statistic)},
            {"threshold", t.threshold},
            {"drift_detected", t.detected}};
    if (t.p_value) tj["p_value"] = Finite(*t.p_value);
    tests.push_back(std::move(tj));
  }
  j["tests"] = std::move(tests);
  json quality{{"missing_ratio", c.missing_ratio}};
  if (c.type == FeatureType::kNumerical) {
    quality["out_of_range_ratio"] = c.out_of_range_ratio;
  } else {
    quality["unseen_category_ratio"] = c.unseen_ratio;
  }
  j["data_quality"] = std::move(quality);
  if (c.summary) {
    j["summary"] = {{"mean", Finite(c.summary->mean)},
                    {"stddev", Finite(c.summary->stddev)},
                    {"min", Finite(c.summary->min)},
                    {"median", Finite(c.summary->median)},
                    {"max", Finite(c.summary->max)}};
  }
  return j;
}

json PerformanceJson(const state::PerformanceResult& r, const std::vector<std::string>& classes) {
  json j{{"model_version", r.model_version}, {"samples", r.samples}};
  if (r.samples == 0) return j;
  if (r.classification) {
    const auto& c = *r.classification;
    j["accuracy"] = c.accuracy;
    j["precision"] = c.precision;
    j["recall"] = c.recall;
    j["f1"] = c.f1;
    j["macro"] = {{"precision", c.macro_precision}, {"recall", c.macro_recall}, {"f1", c.macro_f1}};
    j["micro"] = {{"precision", c.micro_precision}, {"recall", c.micro_recall}, {"f1", c.micro_f1}};
    j["weighted"] = {
        {"precision", c.weighted_precision}, {"recall", c.weighted_recall}, {"f1", c.weighted_f1}};
    json per_class = json::object();
    for (size_t k = 0; k < classes.size() && k < c.per_class.size(); ++k) {
      per_class[classes[k]] = {{"precision", c.per_class[k].precision},
                               {"recall", c.per_class[k].recall},
                               {"f1", c.per_class[k].f1},
                               {"support", c.per_class[k].support}};
    }
    j["classes"] = std::move(per_class);
    j["confusion_matrix"] = c.confusion;
    if (c.roc_auc) {
      j["roc_auc"] = Finite(*c.roc_auc);
    } else {
      j["roc_auc_unavailable"] = c.roc_auc_unavailable;
    }
    if (c.log_loss) {
      j["log_loss"] = Finite(*c.log_loss);
    } else {
      j["log_loss_unavailable"] = c.log_loss_unavailable;
    }
    j["predicted_positive_rate"] = c.predicted_positive_rate;
    j["label_positive_rate"] = c.label_positive_rate;
  } else if (r.regression) {
    const auto& g = *r.regression;
    j["mae"] = g.mae;
    j["mse"] = g.mse;
    j["rmse"] = g.rmse;
    j["r2"] = g.r2 ? Finite(*g.r2) : json(nullptr);
    j["mape"] = Finite(g.mape);
    j["mean_error"] = g.mean_error;
  }
  return j;
}

json Optional(const std::optional<double>& v) { return v ? Finite(*v) : json(nullptr); }

// Estimated beside realized, per metric.
json EstimationJson(const state::EstimationResult& e) {
  json j{{"status", e.status}, {"samples", e.samples}};
  if (!e.reason.empty()) j["reason"] = e.reason;
  json metrics = json::array();
  for (const state::EstimatedMetric& m : e.metrics) {
    metrics.push_back(
        {{"metric", m.metric},
         {"estimated", Optional(m.value)},
         {"band", {{"lower", Optional(m.lower)}, {"upper", Optional(m.upper)}}},
         {"reference", Optional(m.reference)},
         {"threshold",
          {{"lower", Optional(m.threshold_lower)}, {"upper", Optional(m.threshold_upper)}}},
         {"alert", m.alert},
         {"joined_samples", m.joined_samples},
         {"realized", Optional(m.realized)},
         {"estimated_on_joined", Optional(m.estimated_on_joined)},
         {"estimation_error", Optional(m.error)}});
  }
  j["metrics"] = std::move(metrics);
  return j;
}

json MultivariateJson(const state::MultivariateResult& m) {
  json j{{"status", m.status}, {"samples", m.samples}};
  if (!m.reason.empty()) j["reason"] = m.reason;
  if (m.status == "ok") {
    j["reconstruction_error"] = Finite(m.error);
    j["threshold"] = {{"lower", Finite(m.lower_threshold)}, {"upper", Finite(m.upper_threshold)}};
    j["drift_detected"] = m.detected;
    j["components"] = m.components;
    j["encoded_width"] = m.encoded_width;
    j["chunk_size"] = m.chunk_size;
  }
  return j;
}

}  // namespace

json ModelStatusJson(const state::ModelStatus& s, bool with_columns,
                     const std::vector<std::string>& classes) {
  json j{{"name", s.name},
         {"task", s.task},
         {"window", {{"events", s.window_events}, {"capacity", s.window_capacity}}},
         {"reference", {{"state", s.reference_state}, {"rows", s.reference_rows}}}};
  if (s.capture_target > 0) j["reference"]["capture_target"] = s.capture_target;
  json drift{{"features_evaluated", s.features_evaluated},
             {"features_drifted", s.features_drifted},
             {"dataset_drift_detected", s.dataset_drift}};
  if (s.evaluated_at > 0) drift["evaluated_at"] = s.evaluated_at;
  if (with_columns) {
    json columns = json::array();
    for (const auto& c : s.columns) columns.push_back(ColumnJson(c));
    drift["features"] = std::move(columns);
    if (!s.target.empty()) {
      json target = json::array();
      for (const auto& c : s.target) target.push_back(ColumnJson(c));
      drift["target"] = std::move(target);
    }
  }
  if (s.multivariate) drift["multivariate"] = MultivariateJson(*s.multivariate);
  j["drift"] = std::move(drift);
  json perf{{"pending_predictions", s.pending_predictions}, {"pending_labels", s.pending_labels}};
  if (with_columns) {
    json windows = json::array();
    for (const auto& r : s.performance) windows.push_back(PerformanceJson(r, classes));
    perf["windows"] = std::move(windows);
    if (!s.baseline.empty()) perf["baseline"] = s.baseline;
    if (s.experiment) {
      const auto& e = *s.experiment;
      json ej{{"metric", e.metric}, {"control", e.control}, {"challenger", e.challenger}};
      if (e.unavailable.empty()) {
        ej["difference"] = Finite(e.difference);
        if (e.p_value) ej["p_value"] = Finite(*e.p_value);
      } else {
        ej["unavailable"] = e.unavailable;
      }
      perf["experiment"] = std::move(ej);
    }
    if (s.estimation) perf["estimation"] = EstimationJson(*s.estimation);
  }
  j["performance"] = std::move(perf);
  return j;
}

json AlertsJson(const std::vector<alerts::AlertInstance>& active,
                std::chrono::steady_clock::time_point steady_now, double unix_now) {
  auto unix_time = [&](std::chrono::steady_clock::time_point t) {
    return unix_now - std::chrono::duration<double>(steady_now - t).count();
  };
  json list = json::array();
  for (const alerts::AlertInstance& a : active) {
    json j{{"alertname", a.rule},
           {"state", alerts::StateName(a.state)},
           {"labels", a.labels},
           {"annotations", a.annotations},
           {"value", Finite(a.last_value)},
           {"active_since", unix_time(a.active_since)}};
    if (a.state == alerts::State::kFiring) j["firing_since"] = unix_time(a.fired_at);
    list.push_back(std::move(j));
  }
  return json{{"alerts", list}};
}

}  // namespace modelmon::server
