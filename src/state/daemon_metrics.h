#ifndef MODELMON_STATE_DAEMON_METRICS_H_
#define MODELMON_STATE_DAEMON_METRICS_H_

#include "metrics/metrics.h"

namespace modelmon::state {

// The metric families of the daemon's state (ingestion, data quality, drift, performance, alerts,
// snapshots), registered once at start; the server layer registers the transport's own. Thread-safe
// (see metrics::Registry). Label values are model, feature, test, class and version names from the
// configuration (versions capped per model), and fixed enumerations; never raw request data.
struct DaemonMetrics {
  explicit DaemonMetrics(metrics::Registry& registry);

  // Ingestion.
  metrics::CounterFamily events;             // modelmon_events_total{model,kind}
  metrics::CounterFamily predictions;        // modelmon_predictions_total{model,model_version}
  metrics::CounterFamily model_errors;       // modelmon_model_errors_total{model,model_version}
  metrics::HistogramFamily model_latency;    // modelmon_model_latency_seconds{model,model_version}
  metrics::CounterFamily rejected;           // modelmon_events_rejected_total{kind,reason}
  metrics::GaugeFamily window_samples;       // modelmon_window_samples{model}
  metrics::GaugeFamily reference_samples;    // modelmon_reference_samples{model}
  metrics::CounterFamily reference_updates;  // modelmon_reference_updates_total{model,source}
  // Fleet view: window observations per reference bin, and the reference's share of each bin.
  metrics::CounterFamily
      bin_observations;  // modelmon_feature_bin_observations_total{model,feature,bin}
  metrics::GaugeFamily reference_share;  // modelmon_feature_reference_share{model,feature,bin}

  // Data quality, cumulative since start and as ratios over the current window.
  metrics::CounterFamily missing_values;     // modelmon_feature_missing_values_total{model,feature}
  metrics::CounterFamily out_of_range;       // modelmon_feature_out_of_range_values_total
  metrics::CounterFamily unseen_categories;  // modelmon_feature_unseen_category_values_total
  metrics::GaugeFamily missing_ratio;        // modelmon_feature_missing_ratio{model,feature}
  metrics::GaugeFamily out_of_range_ratio;   // modelmon_feature_out_of_range_ratio
  metrics::GaugeFamily unseen_ratio;         // modelmon_feature_unseen_category_ratio
  metrics::GaugeFamily window_summary;       // modelmon_feature_window_stat{model,feature,stat}

  // Drift.
  metrics::GaugeFamily drift_statistic;          // {model,feature,test}
  metrics::GaugeFamily drift_p_value;            // {model,feature,test}
  metrics::GaugeFamily drift_threshold;          // {model,feature,test}
  metrics::GaugeFamily drift_detected;           // {model,feature,test}
  metrics::GaugeFamily drift_window_samples;     // {model,feature,test}
  metrics::GaugeFamily drift_reference_samples;  // {model,feature,test}
  metrics::GaugeFamily features_drifted;         // modelmon_drift_features_drifted{model}
  metrics::GaugeFamily dataset_drift;            // modelmon_dataset_drift_detected{model}
  metrics::GaugeFamily drift_share;              // modelmon_drift_features_drifted_share{model}
  metrics::GaugeFamily last_evaluation;  // modelmon_last_evaluation_timestamp_seconds{model}
  metrics::HistogramFamily evaluation_duration;  // modelmon_evaluation_duration_seconds{model}

  // Ground-truth join.
  metrics::CounterFamily gt_joined;      // modelmon_ground_truth_joined_total{model}
  metrics::CounterFamily gt_expired;     // modelmon_ground_truth_expired_total{model,kind}
  metrics::CounterFamily gt_evicted;     // modelmon_ground_truth_evicted_total{model,kind}
  metrics::CounterFamily gt_duplicates;  // modelmon_ground_truth_duplicates_total{model,kind}
  metrics::GaugeFamily gt_pending;       // modelmon_ground_truth_pending{model,kind}
  metrics::HistogramFamily gt_delay;     // modelmon_ground_truth_delay_seconds{model}

  // Performance over the window of joined pairs; {model,model_version} unless noted.
  metrics::GaugeFamily perf_samples;     // modelmon_performance_window_samples
  metrics::GaugeFamily accuracy;         // modelmon_classification_accuracy
  metrics::GaugeFamily precision;        // modelmon_classification_precision{...,average}
  metrics::GaugeFamily recall;           // modelmon_classification_recall{...,average}
  metrics::GaugeFamily f1;               // modelmon_classification_f1{...,average}
  metrics::GaugeFamily class_precision;  // modelmon_classification_class_precision{...,class}
  metrics::GaugeFamily class_recall;     // modelmon_classification_class_recall{...,class}
  metrics::GaugeFamily class_f1;         // modelmon_classification_class_f1{...,class}
  metrics::GaugeFamily roc_auc;          // modelmon_classification_roc_auc
  metrics::GaugeFamily log_loss;         // modelmon_classification_log_loss
  metrics::GaugeFamily
      confusion;  // modelmon_classification_confusion_matrix{...,true_class,predicted_class}
  metrics::GaugeFamily predicted_positive;     // modelmon_classification_predicted_positive_rate
  metrics::GaugeFamily label_positive;         // modelmon_classification_label_positive_rate
  metrics::GaugeFamily mae;                    // modelmon_regression_mae
  metrics::GaugeFamily mse;                    // modelmon_regression_mse
  metrics::GaugeFamily rmse;                   // modelmon_regression_rmse
  metrics::GaugeFamily r2;                     // modelmon_regression_r2
  metrics::GaugeFamily mape;                   // modelmon_regression_mape
  metrics::GaugeFamily mean_error;             // modelmon_regression_mean_error
  metrics::GaugeFamily baseline;               // modelmon_performance_baseline{model,metric}
  metrics::GaugeFamily degradation;            // modelmon_performance_degradation{...,metric}
  metrics::GaugeFamily experiment_difference;  // modelmon_experiment_difference{model,metric}
  metrics::GaugeFamily experiment_p_value;     // modelmon_experiment_p_value{model,metric}

  // Label-free performance estimation over the drift window; {model,metric} unless noted.
  metrics::GaugeFamily estimated;            // modelmon_estimated_performance
  metrics::GaugeFamily estimated_band;       // modelmon_estimated_performance_band{...,bound}
  metrics::GaugeFamily estimated_threshold;  // modelmon_estimated_performance_threshold{...,bound}
  metrics::GaugeFamily estimated_alert;      // modelmon_estimated_performance_alert
  metrics::GaugeFamily estimation_error;     // modelmon_estimation_error
  metrics::GaugeFamily estimated_samples;    // modelmon_estimated_performance_samples{model}

  // Multivariate drift (PCA reconstruction error); {model} unless noted.
  metrics::GaugeFamily reconstruction_error;      // modelmon_multivariate_reconstruction_error
  metrics::GaugeFamily reconstruction_threshold;  // ..._reconstruction_threshold{model,bound}
  metrics::GaugeFamily multivariate_detected;     // modelmon_multivariate_drift_detected

  // Alerts.
  metrics::GaugeFamily alert_state;          // modelmon_alert_state{alertname,severity,...}: 1|2
  metrics::GaugeFamily alerts_firing;        // modelmon_alerts_firing
  metrics::CounterFamily alert_transitions;  // modelmon_alert_transitions_total{alertname,to}

  // State snapshots.
  metrics::CounterFamily snapshot_writes;            // modelmon_snapshot_writes_total
  metrics::CounterFamily snapshot_write_failures;    // modelmon_snapshot_write_failures_total
  metrics::GaugeFamily snapshot_last_write;          // ..._last_write_timestamp_seconds
  metrics::GaugeFamily snapshot_bytes;               // modelmon_snapshot_bytes
  metrics::CounterFamily snapshot_restore_failures;  // ..._restore_failures_total{reason}
  metrics::GaugeFamily snapshot_restored_events;     // modelmon_snapshot_restored_events{model}
};

}  // namespace modelmon::state

#endif  // MODELMON_STATE_DAEMON_METRICS_H_
