#include "state/daemon_metrics.h"

namespace modelmon::state {

DaemonMetrics::DaemonMetrics(metrics::Registry& r)
    : events(r.AddCounter("modelmon_events_total", "Events accepted, by model and kind.")),
      predictions(r.AddCounter("modelmon_predictions_total",
                               "Prediction events accepted, by model and model version.")),
      model_errors(r.AddCounter("modelmon_model_errors_total",
                                "Prediction events that reported a model server error.")),
      model_latency(r.AddHistogram(
          "modelmon_model_latency_seconds", "Model server latency reported with prediction events.",
          {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5})),
      rejected(
          r.AddCounter("modelmon_events_rejected_total", "Events rejected, by kind and reason.")),
      window_samples(
          r.AddGauge("modelmon_window_samples", "Events in the model's current drift window.")),
      reference_samples(
          r.AddGauge("modelmon_reference_samples", "Rows in the model's reference sample.")),
      reference_updates(r.AddCounter("modelmon_reference_updates_total",
                                     "Times the reference was set, by source.")),
      bin_observations(r.AddCounter(
          "modelmon_feature_bin_observations_total",
          "Values observed per reference bin (numerical: PSI bin index; categorical: category).")),
      reference_share(r.AddGauge("modelmon_feature_reference_share",
                                 "Share of the reference sample in each bin.")),
      missing_values(r.AddCounter("modelmon_feature_missing_values_total",
                                  "Feature values that were absent or null.")),
      out_of_range(r.AddCounter("modelmon_feature_out_of_range_values_total",
                                "Numerical values outside the reference's [min, max].")),
      unseen_categories(r.AddCounter("modelmon_feature_unseen_category_values_total",
                                     "Categorical values never seen in the reference.")),
      missing_ratio(r.AddGauge("modelmon_feature_missing_ratio",
                               "Share of missing values in the current window.")),
      out_of_range_ratio(r.AddGauge("modelmon_feature_out_of_range_ratio",
                                    "Share of window values outside the reference range.")),
      unseen_ratio(r.AddGauge("modelmon_feature_unseen_category_ratio",
                              "Share of window values in categories unseen in the reference.")),
      window_summary(
          r.AddGauge("modelmon_feature_window_stat",
                     "Statistic (stat label) of a numerical feature over the current window.")),
      drift_statistic(r.AddGauge("modelmon_drift_statistic",
                                 "Drift test statistic of the window against the reference.")),
      drift_p_value(r.AddGauge("modelmon_drift_p_value", "Drift test p-value (ks, chi2).")),
      drift_threshold(
          r.AddGauge("modelmon_drift_threshold", "Threshold in force for the drift test.")),
      drift_detected(
          r.AddGauge("modelmon_drift_detected", "1 when the drift test flags drift, else 0.")),
      drift_window_samples(
          r.AddGauge("modelmon_drift_window_samples", "Window values the drift test used.")),
      drift_reference_samples(
          r.AddGauge("modelmon_drift_reference_samples", "Reference values the drift test used.")),
      features_drifted(r.AddGauge("modelmon_drift_features_drifted",
                                  "Configured features with drift detected.")),
      dataset_drift(r.AddGauge("modelmon_dataset_drift_detected",
                               "1 when the share of drifted features reaches the threshold.")),
      drift_share(r.AddGauge("modelmon_drift_features_drifted_share",
                             "Share of evaluated configured features with drift detected.")),
      last_evaluation(r.AddGauge("modelmon_last_evaluation_timestamp_seconds",
                                 "Unix time of the model's last drift evaluation.")),
      evaluation_duration(r.AddHistogram("modelmon_evaluation_duration_seconds",
                                         "Time to evaluate all drift tests of a model.",
                                         {0.0001, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5})),
      gt_joined(r.AddCounter("modelmon_ground_truth_joined_total",
                             "Predictions joined with their ground truth.")),
      gt_expired(r.AddCounter("modelmon_ground_truth_expired_total",
                              "Predictions that expired unlabelled (kind=prediction) or labels "
                              "that expired without a prediction (kind=label).")),
      gt_evicted(r.AddCounter("modelmon_ground_truth_evicted_total",
                              "Pending predictions or labels dropped because the store was full.")),
      gt_duplicates(r.AddCounter("modelmon_ground_truth_duplicates_total",
                                 "Predictions or labels whose id was already pending or joined.")),
      gt_pending(
          r.AddGauge("modelmon_ground_truth_pending",
                     "Predictions waiting for a label, and labels waiting for a prediction.")),
      gt_delay(r.AddHistogram("modelmon_ground_truth_delay_seconds",
                              "Time from a prediction's arrival to its label's arrival.",
                              {1, 10, 60, 300, 900, 3600, 4 * 3600, 12 * 3600, 86400, 7 * 86400})),
      perf_samples(r.AddGauge("modelmon_performance_window_samples",
                              "Joined pairs in the performance window.")),
      accuracy(r.AddGauge("modelmon_classification_accuracy", "Accuracy over the window.")),
      precision(r.AddGauge("modelmon_classification_precision",
                           "Precision (binary: positive class; else macro, micro, weighted).")),
      recall(r.AddGauge("modelmon_classification_recall",
                        "Recall (binary: positive class; else macro, micro, weighted).")),
      f1(r.AddGauge("modelmon_classification_f1",
                    "F1 (binary: positive class; else macro, micro, weighted).")),
      class_precision(r.AddGauge("modelmon_classification_class_precision",
                                 "Precision of one class over the window.")),
      class_recall(r.AddGauge("modelmon_classification_class_recall",
                              "Recall of one class over the window.")),
      class_f1(r.AddGauge("modelmon_classification_class_f1", "F1 of one class over the window.")),
      roc_auc(r.AddGauge("modelmon_classification_roc_auc",
                         "ROC AUC over the window (one-vs-rest macro for multiclass).")),
      log_loss(r.AddGauge("modelmon_classification_log_loss", "Log loss over the window.")),
      confusion(r.AddGauge("modelmon_classification_confusion_matrix",
                           "Joined pairs in the window by true and predicted class.")),
      predicted_positive(r.AddGauge("modelmon_classification_predicted_positive_rate",
                                    "Share of positive predictions in the window.")),
      label_positive(r.AddGauge("modelmon_classification_label_positive_rate",
                                "Share of positive labels in the window.")),
      mae(r.AddGauge("modelmon_regression_mae", "Mean absolute error over the window.")),
      mse(r.AddGauge("modelmon_regression_mse", "Mean squared error over the window.")),
      rmse(r.AddGauge("modelmon_regression_rmse", "Root mean squared error over the window.")),
      r2(r.AddGauge("modelmon_regression_r2", "Coefficient of determination over the window.")),
      mape(r.AddGauge("modelmon_regression_mape",
                      "Mean absolute percentage error (as a fraction) over the window.")),
      mean_error(r.AddGauge("modelmon_regression_mean_error",
                            "Mean of prediction minus truth (bias) over the window.")),
      baseline(
          r.AddGauge("modelmon_performance_baseline", "Baseline value of a performance metric.")),
      degradation(r.AddGauge("modelmon_performance_degradation",
                             "Current value minus baseline of a performance metric.")),
      experiment_difference(r.AddGauge("modelmon_experiment_difference",
                                       "Challenger minus control for the experiment's metric.")),
      experiment_p_value(r.AddGauge("modelmon_experiment_p_value",
                                    "Two-sided p-value of the experiment's difference.")),
      estimated(r.AddGauge("modelmon_estimated_performance",
                           "Performance estimated from the scores of the drift window (no labels; "
                           "binary: positive class; multiclass: macro averages).")),
      estimated_band(r.AddGauge("modelmon_estimated_performance_band",
                                "Sampling-error band of the estimate: estimate -/+ 3 standard "
                                "errors (bound lower or upper).")),
      estimated_threshold(r.AddGauge(
          "modelmon_estimated_performance_threshold",
          "Alert band of the estimate: the reference's realized value -/+ 3 standard errors.")),
      estimated_alert(r.AddGauge("modelmon_estimated_performance_alert",
                                 "1 when the estimate lies outside its alert band, else 0.")),
      estimation_error(r.AddGauge("modelmon_estimation_error",
                                  "Estimated minus realized value over the joined pairs.")),
      estimated_samples(r.AddGauge("modelmon_estimated_performance_samples",
                                   "Scored events of the drift window the estimate used.")),
      reconstruction_error(
          r.AddGauge("modelmon_multivariate_reconstruction_error",
                     "Mean PCA reconstruction error of the drift window's standardised features.")),
      reconstruction_threshold(r.AddGauge("modelmon_multivariate_reconstruction_threshold",
                                          "Mean -/+ 3 sigma of the reference chunks' "
                                          "reconstruction errors (bound lower or upper).")),
      multivariate_detected(
          r.AddGauge("modelmon_multivariate_drift_detected",
                     "1 when the reconstruction error lies outside its thresholds, else 0.")),
      alert_state(
          r.AddGauge("modelmon_alert_state",
                     "Alerts that are pending (1) or firing (2); inactive ones are absent.")),
      alerts_firing(r.AddGauge("modelmon_alerts_firing", "Alerts firing now.")),
      alert_transitions(r.AddCounter("modelmon_alert_transitions_total",
                                     "Alert state changes, by alert and new state.")),
      snapshot_writes(
          r.AddCounter("modelmon_snapshot_writes_total", "State snapshots written to disk.")),
      snapshot_write_failures(r.AddCounter("modelmon_snapshot_write_failures_total",
                                           "State snapshots that could not be written.")),
      snapshot_last_write(r.AddGauge("modelmon_snapshot_last_write_timestamp_seconds",
                                     "Unix time of the last state snapshot written.")),
      snapshot_bytes(r.AddGauge("modelmon_snapshot_bytes", "Size of the last state snapshot.")),
      snapshot_restore_failures(r.AddCounter(
          "modelmon_snapshot_restore_failures_total",
          "Snapshots (reason corrupt, invalid, truncated, magic, version, checksum, io) or "
          "models (config_changed) not restored at start.")),
      snapshot_restored_events(
          r.AddGauge("modelmon_snapshot_restored_events",
                     "Window events restored from the snapshot at start, by model.")) {}

}  // namespace modelmon::state
