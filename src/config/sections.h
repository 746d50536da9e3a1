#ifndef MODELMON_CONFIG_SECTIONS_H_
#define MODELMON_CONFIG_SECTIONS_H_

#include <map>
#include <string>
#include <vector>

#include "config/yaml_reader.h"
#include "detectors/drift_tests.h"
#include "modelmon/config.h"

// One reader per configuration section. Each reads `node` into `out`, which holds the defaults
// documented in modelmon/config.h; a key that is absent keeps its default, a key that is invalid
// records an error naming its path in `y` and keeps the default. None throws on any input except
// YAML::Exception from yaml-cpp itself, which LoadConfigString catches. Not thread-safe (`y`).

namespace modelmon::config {

// server_section.cc. `server`: listen (host:port, [v6]:port; port 0..65535), threads (1..64),
// max_body_bytes (1 KiB..1 GiB), max_header_bytes (1 KiB..1 MiB), max_batch_events (1..1000000),
// max_connections, max_inflight_requests (1..100000), max_inflight_bytes (1 KiB..1 TiB, at least
// max_body_bytes), request_timeout, idle_timeout, shutdown_timeout (positive durations), tls
// {cert_file, key_file (both or neither), min_version "1.2"|"1.3"} and auth {ingest,admin,read
// _token or _token_file (one of the two; a file is read at load time, trailing whitespace trimmed);
// tokens of at least 16 characters}.
void ReadServer(YamlReader& y, const YAML::Node& node, ServerConfig* out);

// models_section.cc. One `models[i]`: name (required, a CheckName name), task (required),
// classes / positive_class (classification only; binary defaults to ["0", "1"] and the second
// class, multiclass needs 2..100 distinct names), features (required, 1..1000 distinct
// {name, type: numerical|categorical, tests, thresholds}; the pseudo-feature names are reserved),
// window {size 1..1000000, duration}, reference (required, exactly one of file: PATH or
// capture: 1..1000000), drift, performance and max_versions (1..100).
void ReadModel(YamlReader& y, const YAML::Node& node, const std::string& path, ModelConfig* out);

// drift_section.cc. `models[i].drift`: numerical_tests, categorical_tests (lists of tests
// applicable to the type, or auto), thresholds (test -> positive number; below 1 for p-value
// tests), min_samples (1..1000000), dataset_drift_share ((0, 1]), bonferroni (bool), psi_bins
// (2..1000), max_categories (1..10000), monitor_prediction (bool), multivariate {enabled (bool,
// default true once the section is present), explained_variance ((0, 1)), chunk_size
// (2..1000000)} and target {enabled (bool, default true once present), tests (validated by
// ReadModel against the label's type), prediction_vs_label (bool)}.
void ReadDrift(YamlReader& y, const YAML::Node& node, const std::string& path, DriftConfig* out);

// A list of drift tests applicable to features of `kind`, or "auto". On any error `out` is left
// as it was.
void ReadDriftTests(YamlReader& y, const YAML::Node& node, const std::string& path,
                    detectors::FeatureKind kind, std::vector<std::string>* out);

// A mapping of drift test name (not "auto") to threshold: positive, and in (0, 1) for tests that
// report a p-value. Valid entries are kept when others are not.
void ReadDriftThresholds(YamlReader& y, const YAML::Node& node, const std::string& path,
                         std::map<std::string, double>* out);

// performance_section.cc. `models[i].performance`: window_size (1..1000000), window_duration,
// prediction_ttl, label_ttl (positive durations), max_pending, max_pending_labels (1..10000000),
// baseline (performance metric -> number), experiment {control, challenger} (two different
// versions) and estimation {enabled (bool, default true once the section is present), metrics (a
// non-empty list of distinct kEstimatedMetrics), min_samples (1..1000000)}; ReadModel rejects
// estimation for regression.
void ReadPerformance(YamlReader& y, const YAML::Node& node, const std::string& path,
                     PerformanceConfig* out);

// alerts_section.cc. `alerts`: a list of rules {name (required, a CheckName name), metric
// (required, an alertable metric), model, feature, test, model_version, labels {label: value}
// ("*" matches any value), op (required, <|<=|>|>=), threshold (required), clear_threshold (on
// the resolved side of threshold), for (a duration, 0s allowed), min_samples (0..100000000),
// severity, annotations {name: text}}. Appends one rule per list element that is a mapping.
void ReadAlerts(YamlReader& y, const YAML::Node& node, std::vector<AlertRuleConfig>* out);

// notify_section.cc. `notify`: alertmanager_url, webhook_url, external_url (http:// URLs),
// resend_interval, timeout (positive durations), max_queue (1..1000000).
void ReadNotify(YamlReader& y, const YAML::Node& node, NotifierConfig* out);

// graphite_section.cc. `graphite`: address (required, host:port with port 1..65535), prefix
// (a CheckName name), interval (a positive duration).
void ReadGraphite(YamlReader& y, const YAML::Node& node, GraphiteConfig* out);

// daemon_section.cc. `state`: snapshot_path (a file path without NUL), snapshot_interval (at
// least 100ms).
void ReadState(YamlReader& y, const YAML::Node& node, StateConfig* out);

// daemon_section.cc. `log`: format (text|json) and level (trace|debug|info|warn|error|off), into
// out->log_format and out->log_level.
void ReadLog(YamlReader& y, const YAML::Node& node, Config* out);

// config_loader.cc. The whole document: server, evaluation_interval (a positive duration), log,
// models (required, 1..100 distinct names), alerts, notify, graphite, state.
void ReadRoot(YamlReader& y, const YAML::Node& root, Config* out);

}  // namespace modelmon::config

#endif  // MODELMON_CONFIG_SECTIONS_H_
