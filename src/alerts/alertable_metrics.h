#ifndef MODELMON_ALERTS_ALERTABLE_METRICS_H_
#define MODELMON_ALERTS_ALERTABLE_METRICS_H_

#include <string_view>

// The vocabulary of alert rule metrics: every value an alert rule may name in `metric`, grouped by
// the labels its observations carry. Header-only constexpr data, so that the configuration can
// validate rules without a link dependency on the alerts library. Thread-safe (immutable).

namespace modelmon::alerts {

enum class MetricFamily {
  kDriftTest,       // Per test result; labels model, feature, test.
  kDriftModel,      // Per model drift summary; label model.
  kFeatureQuality,  // Per feature data quality; labels model, feature.
  kPerformance,     // Headline performance value; labels model, model_version.
  kDegradation,     // Value minus its baseline; labels model, model_version, metric.
  kGroundTruth,     // Join store backlog; labels model, kind.
  kEstimation,      // Label-free estimate of a performance metric; labels model, metric.
  kMultivariate,    // Multivariate (reconstruction) drift; label model.
};

struct AlertableMetric {
  std::string_view name;
  MetricFamily family;
};

inline constexpr AlertableMetric kAlertableMetrics[] = {
    {"drift_statistic", MetricFamily::kDriftTest},
    {"drift_p_value", MetricFamily::kDriftTest},
    {"drift_detected", MetricFamily::kDriftTest},
    {"drift_features_drifted", MetricFamily::kDriftModel},
    {"dataset_drift_detected", MetricFamily::kDriftModel},
    {"missing_ratio", MetricFamily::kFeatureQuality},
    {"out_of_range_ratio", MetricFamily::kFeatureQuality},
    {"unseen_category_ratio", MetricFamily::kFeatureQuality},
    // The kPerformance entries, in this order, are also the metrics that
    // models[].performance.baseline accepts.
    {"accuracy", MetricFamily::kPerformance},
    {"precision", MetricFamily::kPerformance},
    {"recall", MetricFamily::kPerformance},
    {"f1", MetricFamily::kPerformance},
    {"roc_auc", MetricFamily::kPerformance},
    {"log_loss", MetricFamily::kPerformance},
    {"mae", MetricFamily::kPerformance},
    {"mse", MetricFamily::kPerformance},
    {"rmse", MetricFamily::kPerformance},
    {"r2", MetricFamily::kPerformance},
    {"mape", MetricFamily::kPerformance},
    {"mean_error", MetricFamily::kPerformance},
    {"performance_degradation", MetricFamily::kDegradation},
    {"ground_truth_pending", MetricFamily::kGroundTruth},
    // The estimate, 1 when it leaves its alert band (else 0), and estimated minus realized.
    {"estimated_performance", MetricFamily::kEstimation},
    {"estimated_performance_alert", MetricFamily::kEstimation},
    {"estimation_error", MetricFamily::kEstimation},
    {"multivariate_reconstruction_error", MetricFamily::kMultivariate},
    {"multivariate_drift_detected", MetricFamily::kMultivariate},
};

// The entry named `name` (case-sensitive); nullptr for any other string. O(27).
constexpr const AlertableMetric* FindAlertableMetric(std::string_view name) {
  for (const AlertableMetric& m : kAlertableMetrics) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

}  // namespace modelmon::alerts

#endif  // MODELMON_ALERTS_ALERTABLE_METRICS_H_
