#ifndef MODELMON_CONFIG_H_
#define MODELMON_CONFIG_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace modelmon {

// The daemon's configuration: plain values, validated by LoadConfig*(). A Config that came out of
// the loader satisfies every constraint documented on its fields. Plain data; not synchronised.

enum class Task { kBinaryClassification, kMulticlassClassification, kRegression };
enum class FeatureType { kNumerical, kCategorical };
enum class LogFormat { kText, kJson };

// Optional TLS on the listening port (HTTPS only; plain HTTP requests to it get 400).
struct TlsConfig {
  std::string cert_file;  // PEM certificate chain, leaf first. Empty: plain HTTP.
  std::string key_file;   // PEM private key matching the leaf certificate.
  int min_version = 12;   // 12: TLS 1.2, 13: TLS 1.3.
  bool enabled() const { return !cert_file.empty(); }
};

struct ServerConfig {
  std::string listen_address = "127.0.0.1";
  uint16_t port = 8080;                // 0 binds an ephemeral port.
  int threads = 2;                     // 1..64
  size_t max_body_bytes = 8u << 20;    // 413 above this.
  size_t max_header_bytes = 8u << 10;  // 431 above this.
  size_t max_batch_events = 10000;     // 413 above this many events in one request.
  // At the cap, a new connection closes the connection idle longest (between requests, before its
  // first complete request head, or lingering after an error); with none, it is closed at accept.
  size_t max_connections = 1024;
  std::chrono::milliseconds request_timeout{10000};  // Whole-request read deadline (408).
  // A connection must complete a request head (TLS handshake included) within this long of its
  // accept, and a keep-alive request within this long of its first byte; else it is closed (408
  // when some of the head arrived). The effective deadline is min(header_timeout, request_timeout).
  std::chrono::milliseconds header_timeout{5000};
  std::chrono::milliseconds idle_timeout{75000};      // Keep-alive idle limit.
  std::chrono::milliseconds shutdown_timeout{20000};  // Drain limit after SIGTERM.
  // Admission of requests that carry a body or reach ingest/admin endpoints: at most this many in
  // flight (from their headers to their response) and this many body bytes buffered (reserved from
  // Content-Length, or per chunk), across all connections; beyond either, 503 with Retry-After.
  size_t max_inflight_requests = 256;
  size_t max_inflight_bytes = 64u << 20;
  TlsConfig tls;
  // Bearer tokens (empty: open). ingest: POST /v1/predictions and /v1/ground-truth; admin:
  // reference replace and promote; read: /metrics and the /v1 status endpoints. /healthz and
  // /readyz stay open.
  std::string ingest_token;
  std::string admin_token;
  std::string read_token;
  // Not a configuration key: set by the hidden `modelmon run --bench-discard-endpoint` flag for the
  // load tests (bench/run_load.sh). Enables POST /v1/discard, which reads a request body through
  // the same transport, limits and ingest authentication as POST /v1/predictions and drops it.
  bool bench_discard_endpoint = false;
};

struct FeatureConfig {
  std::string name;
  FeatureType type = FeatureType::kNumerical;
  // Drift tests for this feature; empty means the model's defaults for the type.
  std::vector<std::string> tests;
  // Per-test threshold overrides (test name -> threshold).
  std::map<std::string, double> thresholds;
};

struct WindowConfig {
  size_t size = 1000;  // Events kept (1..1000000). Oldest leave first.
  // Events older than this (by arrival) leave the window too; nullopt keeps count-only windows.
  std::optional<std::chrono::milliseconds> duration;
};

struct ReferenceConfig {
  // Exactly one of file / capture is set.
  std::string file;    // JSONL prediction events or CSV with a header; relative to the config file.
  size_t capture = 0;  // Capture the first N accepted events as the reference.
};

// Multivariate drift as PCA reconstruction error (`drift.multivariate`).
struct MultivariateDriftConfig {
  bool enabled = false;
  double explained_variance = 0.65;  // In (0, 1): share of the reference variance the PCA keeps.
  // Rows per reference chunk for the thresholds (mean +/- 3 sigma of the chunks' errors); 0: the
  // window size, reduced to half the reference when the reference is smaller than two windows.
  size_t chunk_size = 0;
};

// Target drift (`drift.target`): joined ground-truth labels against the reference labels, and
// the joined predictions against the joined labels.
struct TargetDriftConfig {
  bool enabled = false;
  // Drift tests for the labels; empty: auto for the label's type (categorical for classifiers,
  // numerical for regression).
  std::vector<std::string> tests;
  bool prediction_vs_label = true;  // Also test the joined predictions against their labels.
};

struct DriftConfig {
  std::vector<std::string> numerical_tests;    // Default: ks, psi (or wasserstein, psi above 1000).
  std::vector<std::string> categorical_tests;  // Default: chi2, psi (or jensen_shannon, psi).
  std::map<std::string, double> thresholds;    // test -> threshold; defaults per test.
  size_t min_samples = 30;                     // Windows below this publish no verdict.
  double dataset_drift_share = 0.5;            // Dataset drift when drifted share >= this.
  bool bonferroni = false;         // Divide p-value thresholds by the number of features.
  int psi_bins = 10;               // Reference-quantile bins for numerical PSI / JS.
  size_t max_categories = 50;      // Reference categories kept per feature (+ "__other__").
  bool monitor_prediction = true;  // Treat the prediction (and score) as pseudo-features.
  MultivariateDriftConfig multivariate;
  TargetDriftConfig target;
};

// Label-free performance estimation of a classifier from its scores (`performance.estimation`),
// over the drift window, calibrated on a reference with labels.
struct EstimationConfig {
  bool enabled = false;
  // Estimated metrics, a subset of kEstimatedMetrics; default all of them.
  std::vector<std::string> metrics;
  size_t min_samples = 30;  // Windows with fewer scored events publish no estimate.
};

// The metrics that label-free estimation can estimate, in publication order.
inline constexpr const char* kEstimatedMetrics[] = {"accuracy", "precision",   "recall",
                                                    "f1",       "specificity", "roc_auc"};

struct PerformanceConfig {
  size_t window_size = 1000;  // Joined pairs kept per version.
  std::optional<std::chrono::milliseconds> window_duration;
  std::chrono::milliseconds prediction_ttl{std::chrono::hours(24)};
  std::chrono::milliseconds label_ttl{std::chrono::hours(1)};
  size_t max_pending = 100000;  // Predictions waiting for ground truth, per model.
  size_t max_pending_labels = 10000;
  // Baseline per metric (accuracy, precision, recall, f1, roc_auc, log_loss, mae, mse, rmse, r2,
  // mape, mean_error). Metrics without one take the value of the first full window.
  std::map<std::string, double> baseline;
  // A/B experiment between two model versions (both empty when none).
  std::string experiment_control;
  std::string experiment_challenger;
  EstimationConfig estimation;
};

struct ModelConfig {
  std::string name;
  Task task = Task::kBinaryClassification;
  // Class names (labels and predictions are matched by their JSON text: 1 and "1" are the same
  // class). Binary: exactly two, positive_class is one of them. Multiclass: two or more.
  // Regression: empty.
  std::vector<std::string> classes;
  std::string positive_class;
  std::vector<FeatureConfig> features;
  WindowConfig window;
  ReferenceConfig reference;
  DriftConfig drift;
  PerformanceConfig performance;
  size_t max_versions = 10;  // Distinct model_version label values; later ones become "__other__".
};

// A threshold alert evaluated by the daemon after each evaluation round.
struct AlertRuleConfig {
  std::string name;  // alertname.
  // A published value: drift_p_value, accuracy, missing_ratio, ... (see README).
  std::string metric;
  // Label filters (model, feature, test, model_version, metric); "*" or absent matches any value.
  std::map<std::string, std::string> matchers;
  std::string op = "<";  // <, <=, >, >=
  double threshold = 0;
  std::optional<double> clear_threshold;  // Hysteresis: a firing alert resolves only past this.
  std::chrono::milliseconds for_duration{0};
  int64_t min_samples = 0;
  std::string severity = "warning";
  std::map<std::string, std::string> annotations;
};

// Where alerts are delivered, besides logs, metrics and GET /v1/alerts. Empty URLs are off.
struct NotifierConfig {
  std::string alertmanager_url;  // Base URL, e.g. http://alertmanager:9093 (POST /api/v2/alerts).
  std::string webhook_url;       // Full URL receiving JSON {status, alerts: [...]} on transitions.
  std::string external_url;  // This daemon's URL for generatorURL; default http://listen-address.
  std::chrono::milliseconds resend_interval{60000};  // Firing alerts are re-sent this often.
  std::chrono::milliseconds timeout{5000};           // Per delivery attempt.
  size_t max_queue = 1000;  // Webhook notifications waiting; the oldest are dropped (counted).
};

// Optional push of every gauge and counter to Graphite (carbon plaintext protocol over TCP).
struct GraphiteConfig {
  std::string host;  // Empty: off.
  uint16_t port = 2003;
  std::string prefix = "modelmon";
  std::chrono::milliseconds interval{10000};
};

// Snapshots of the daemon's in-memory state (references, windows, pending joins, performance
// windows, alert states, counters), written periodically and at shutdown, restored at start.
struct StateConfig {
  // Empty: snapshots off. A relative path resolves from the config file's directory.
  std::string snapshot_path;
  std::chrono::milliseconds snapshot_interval{30000};
};

struct Config {
  ServerConfig server;
  std::vector<AlertRuleConfig> alerts;
  NotifierConfig notify;
  GraphiteConfig graphite;
  StateConfig state;
  std::chrono::milliseconds evaluation_interval{10000};
  LogFormat log_format = LogFormat::kText;
  std::string log_level = "info";
  std::vector<ModelConfig> models;
  // The file it was loaded from ("" for strings); references resolve from here.
  std::string source_path;
};

// Outcome of loading: either a Config or every problem found, each "key.path: what was expected,
// got what".
struct ConfigResult {
  std::optional<Config> config;
  std::vector<std::string> errors;
  bool ok() const { return config.has_value(); }
};

// Parses and validates YAML. Never throws. String scalars may refer to environment variables as
// ${NAME} or ${NAME:-default}; an unset variable without a default is an error naming the key.
// LoadConfigFile reads `path` and records it as Config::source_path; a file that cannot be read
// is the one error "PATH: ..." (cannot open file, not a regular file, or larger than
// kMaxConfigFileBytes): a FIFO or a device such as /dev/zero is refused without blocking.
ConfigResult LoadConfigFile(const std::string& path);
// The largest configuration file LoadConfigFile reads.
inline constexpr size_t kMaxConfigFileBytes = size_t{4} << 20;
ConfigResult LoadConfigString(const std::string& yaml, const std::string& source_path = "");

// Names used in metrics, config and the API.
const char* TaskName(Task task);
const char* FeatureTypeName(FeatureType type);

// Pseudo-feature names under which the prediction and its score are monitored for drift.
inline constexpr const char* kPredictionFeature = "__prediction__";
inline constexpr const char* kScoreFeature = "__score__";
// Pseudo-feature names under which target drift is published: the joined labels against the
// reference labels, and the joined predictions against the joined labels.
inline constexpr const char* kLabelFeature = "__label__";
inline constexpr const char* kPredictionVsLabelFeature = "__prediction_vs_label__";

}  // namespace modelmon

#endif  // MODELMON_CONFIG_H_
