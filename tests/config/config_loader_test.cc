#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "config/durations.h"
#include "modelmon/config.h"

namespace modelmon {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr const char* kMinimal = R"(
models:
  - name: fraud
    task: binary_classification
    features:
      - {name: amount, type: numerical}
      - {name: country, type: categorical}
    reference: {capture: 100}
)";

TEST(ConfigLoaderTest, MinimalConfigGetsDefaults) {
  ConfigResult r = LoadConfigString(kMinimal);
  ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0]);
  const Config& c = *r.config;
  EXPECT_EQ(c.server.port, 8080);
  EXPECT_EQ(c.evaluation_interval, std::chrono::seconds(10));
  ASSERT_EQ(c.models.size(), 1u);
  EXPECT_EQ(c.models[0].classes, (std::vector<std::string>{"0", "1"}));
  EXPECT_EQ(c.models[0].positive_class, "1");
  EXPECT_EQ(c.models[0].window.size, 1000u);
  EXPECT_EQ(c.models[0].reference.capture, 100u);
  EXPECT_EQ(c.models[0].features[1].type, FeatureType::kCategorical);
}

TEST(ConfigLoaderTest, ShippedDefaultConfigIsValid) {
  ConfigResult r = LoadConfigFile(std::string(MODELMON_SOURCE_DIR) + "/config/modelmon.yaml");
  ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0]);
  EXPECT_EQ(r.config->models[0].name, "credit_risk");
}

TEST(ConfigLoaderTest, BadFeatureTypeNamesKeyPath) {
  ConfigResult r = LoadConfigString(R"(
models:
  - name: fraud
    task: regression
    features:
      - {name: a, type: numerical}
      - {name: b, type: numerical}
      - {name: c, type: nums}
    reference: {capture: 10}
)");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(
      r.errors,
      ElementsAre("models[0].features[2].type: expected numerical|categorical, got \"nums\""));
}

TEST(ConfigLoaderTest, ReportsEveryErrorWithItsPath) {
  ConfigResult r = LoadConfigString(R"(
server: {listen: "nohost", threads: 0, tmeout: 5s}
evaluation_interval: soon
models:
  - name: "bad name!"
    task: classify
    features: []
    reference: {}
)");
  ASSERT_FALSE(r.ok());
  auto has = [&](const std::string& s) {
    for (const auto& e : r.errors) {
      if (e.find(s) != std::string::npos) return true;
    }
    return false;
  };
  EXPECT_TRUE(has("server.listen: expected host:port")) << ::testing::PrintToString(r.errors);
  EXPECT_TRUE(has("server.threads: expected an integer in [1, 64], got 0"));
  EXPECT_TRUE(has("server.tmeout: unknown key"));
  EXPECT_TRUE(has("evaluation_interval: expected a positive duration"));
  EXPECT_TRUE(has("models[0].name: expected 1-128 characters"));
  EXPECT_TRUE(
      has("models[0].task: expected binary_classification|multiclass_classification|"
          "regression, got \"classify\""));
  EXPECT_TRUE(has("models[0].features: expected a non-empty list"));
  EXPECT_TRUE(has("models[0].reference: expected {file: PATH} or {capture: N}"));
}

TEST(ConfigLoaderTest, RejectsDuplicatesAndWrongTestsForType) {
  ConfigResult r = LoadConfigString(R"(
models:
  - name: m
    task: multiclass_classification
    classes: [a, b, c]
    positive_class: a
    features:
      - {name: x, type: numerical, tests: [chi2]}
      - {name: x, type: categorical}
    reference: {capture: 10}
  - name: m
    task: binary_classification
    classes: [yes, no, maybe]
    features: [{name: y, type: numerical}]
    reference: {capture: 10, file: ref.csv}
)");
  ASSERT_FALSE(r.ok());
  const std::string all = ::testing::PrintToString(r.errors);
  EXPECT_THAT(all, HasSubstr("models[0].positive_class: only for binary_classification"));
  EXPECT_THAT(all, HasSubstr("models[0].features[0].tests[0]: expected a numerical drift test"));
  EXPECT_THAT(all, HasSubstr("models[0].features[1].name: duplicate feature \\\"x\\\""));
  EXPECT_THAT(all, HasSubstr("models[1].name: duplicate model"));
  EXPECT_THAT(all, HasSubstr("models[1].classes: expected exactly 2 classes"));
  EXPECT_THAT(all, HasSubstr("models[1].reference: set either file or capture, not both"));
}

TEST(ConfigLoaderTest, YamlSyntaxErrorHasLine) {
  ConfigResult r = LoadConfigString("models:\n  - name: [unclosed\n");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.errors[0], HasSubstr("line"));
}

TEST(ConfigLoaderTest, ExpandsEnvironmentVariables) {
  setenv("MODELMON_TEST_LISTEN", "0.0.0.0:9191", 1);
  unsetenv("MODELMON_TEST_UNSET");
  std::string yaml = std::string("server: {listen: \"${MODELMON_TEST_LISTEN}\"}\n") + kMinimal;
  ConfigResult r = LoadConfigString(yaml);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.config->server.listen_address, "0.0.0.0");
  EXPECT_EQ(r.config->server.port, 9191);

  r = LoadConfigString(std::string("server: {listen: \"${MODELMON_TEST_UNSET:-127.0.0.1:0}\"}\n") +
                       kMinimal);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.config->server.port, 0);

  r = LoadConfigString(std::string("server: {listen: \"${MODELMON_TEST_UNSET}\"}\n") + kMinimal);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.errors[0], "server.listen: environment variable MODELMON_TEST_UNSET is not set");
}

TEST(ConfigLoaderTest, TextThatIsNotAReferenceIsKept) {
  ConfigResult r = LoadConfigString(std::string(R"(
models:
  - name: m
    task: regression
    features: [{name: x, type: numerical}]
    reference: {file: "cost$-${not closed"}
)"));
  ASSERT_TRUE(r.ok()) << r.errors[0];
  EXPECT_EQ(r.config->models[0].reference.file, "cost$-${not closed");
}

TEST(ConfigLoaderTest, PerformanceBaselineAndExperiment) {
  ConfigResult r = LoadConfigString(R"(
models:
  - name: m
    task: binary_classification
    features: [{name: x, type: numerical}]
    reference: {capture: 10}
    performance:
      window_size: 500
      label_ttl: 2h
      baseline: {accuracy: 0.9, roc_auc: 0.8}
      experiment: {control: v1, challenger: v2}
)");
  ASSERT_TRUE(r.ok()) << r.errors[0];
  const PerformanceConfig& p = r.config->models[0].performance;
  EXPECT_EQ(p.window_size, 500u);
  EXPECT_EQ(p.label_ttl, std::chrono::hours(2));
  EXPECT_EQ(p.baseline.at("roc_auc"), 0.8);
  EXPECT_EQ(p.experiment_challenger, "v2");

  r = LoadConfigString(R"(
models:
  - name: m
    task: regression
    features: [{name: x, type: numerical}]
    reference: {capture: 10}
    performance:
      baseline: {auc: 0.9}
      experiment: {control: v1, challenger: v1}
)");
  ASSERT_FALSE(r.ok());
  const std::string all = ::testing::PrintToString(r.errors);
  EXPECT_THAT(all, HasSubstr("models[0].performance.baseline.auc: expected a performance metric"));
  EXPECT_THAT(all, HasSubstr("models[0].performance.experiment: control and challenger must be"));
}

TEST(ConfigLoaderTest, AlertRules) {
  ConfigResult r = LoadConfigString(std::string(R"(
alerts:
  - {name: FeatureDrift, model: fraud, metric: drift_p_value, feature: "*", test: ks, op: "<",
     threshold: 0.01, for: 5m, clear_threshold: 0.05, severity: critical,
     annotations: {summary: "drift"}}
)") + kMinimal);
  ASSERT_TRUE(r.ok()) << r.errors[0];
  ASSERT_EQ(r.config->alerts.size(), 1u);
  const AlertRuleConfig& a = r.config->alerts[0];
  EXPECT_EQ(a.matchers, (std::map<std::string, std::string>{{"model", "fraud"}, {"test", "ks"}}));
  EXPECT_EQ(a.for_duration, std::chrono::minutes(5));
  EXPECT_EQ(a.clear_threshold, 0.05);
  EXPECT_EQ(a.annotations.at("summary"), "drift");

  r = LoadConfigString(std::string(R"(
alerts:
  - {name: A, metric: drift_pvalue, op: "<", threshold: 0.01}
  - {name: B, metric: accuracy, op: "=<", threshold: 0.9}
  - {name: C, metric: accuracy, op: "<", threshold: 0.9, clear_threshold: 0.8}
  - {metric: accuracy, op: ">", threshold: 1, for: soon}
)") + kMinimal);
  ASSERT_FALSE(r.ok());
  const std::string all = ::testing::PrintToString(r.errors);
  EXPECT_THAT(all, HasSubstr("alerts[0].metric: expected one of"));
  EXPECT_THAT(all, HasSubstr("alerts[1].op: expected <|<=|>|>=, got \\\"=<\\\""));
  EXPECT_THAT(all, HasSubstr("alerts[2].clear_threshold: must be on the resolved side"));
  EXPECT_THAT(all, HasSubstr("alerts[3].name: is required"));
  EXPECT_THAT(all, HasSubstr("alerts[3].for: expected a duration"));
}

TEST(ConfigLoaderTest, NotifiersAndGraphite) {
  ConfigResult r = LoadConfigString(std::string(R"(
notify: {alertmanager_url: "http://am:9093", resend_interval: 30s}
graphite: {address: "carbon:2003", prefix: ml, interval: 1m}
)") + kMinimal);
  ASSERT_TRUE(r.ok()) << r.errors[0];
  EXPECT_EQ(r.config->notify.alertmanager_url, "http://am:9093");
  EXPECT_EQ(r.config->notify.resend_interval, std::chrono::seconds(30));
  EXPECT_EQ(r.config->graphite.host, "carbon");
  EXPECT_EQ(r.config->graphite.port, 2003);
  EXPECT_EQ(r.config->graphite.prefix, "ml");

  r = LoadConfigString(std::string(R"(
notify: {alertmanager_url: "am:9093"}
graphite: {address: carbon}
)") + kMinimal);
  ASSERT_FALSE(r.ok());
  const std::string all = ::testing::PrintToString(r.errors);
  EXPECT_THAT(all, HasSubstr("notify.alertmanager_url: expected an http:// URL"));
  EXPECT_THAT(all, HasSubstr("graphite.address: expected host:port"));
}

TEST(ConfigLoaderTest, StateSnapshots) {
  ConfigResult r = LoadConfigString(kMinimal);
  ASSERT_TRUE(r.ok()) << r.errors[0];
  EXPECT_EQ(r.config->state.snapshot_path, "");
  EXPECT_EQ(r.config->state.snapshot_interval, std::chrono::seconds(30));

  r = LoadConfigString(std::string(R"(
state: {snapshot_path: /var/lib/modelmon/state.snap, snapshot_interval: 5s}
)") + kMinimal);
  ASSERT_TRUE(r.ok()) << r.errors[0];
  EXPECT_EQ(r.config->state.snapshot_path, "/var/lib/modelmon/state.snap");
  EXPECT_EQ(r.config->state.snapshot_interval, std::chrono::seconds(5));

  r = LoadConfigString(std::string(R"(
state: {snapshot_path: /var/lib/, snapshot_interval: 10ms, path: x}
)") + kMinimal);
  ASSERT_FALSE(r.ok());
  const std::string all = ::testing::PrintToString(r.errors);
  EXPECT_THAT(all, HasSubstr("state.snapshot_path: expected a file path"));
  EXPECT_THAT(all, HasSubstr("state.snapshot_interval: must be at least 100ms"));
  EXPECT_THAT(all, HasSubstr("state.path"));
}

TEST(ConfigLoaderTest, AuthTokens) {
  ConfigResult r = LoadConfigString(std::string(R"(
server:
  auth: {ingest_token: "0123456789abcdef0123", admin_token: short,
         read_token: "0123456789abcdef", read_token_file: /x,
         ingest_token_file: /nonexistent/token}
)") + kMinimal);
  ASSERT_FALSE(r.ok());
  const std::string all = ::testing::PrintToString(r.errors);
  EXPECT_THAT(all, HasSubstr("server.auth.admin_token: a token needs at least 16 characters"));
  EXPECT_THAT(all, HasSubstr("server.auth.read_token: set either read_token or read_token_file"));
  EXPECT_THAT(all, HasSubstr("server.auth.ingest_token: set either"));
  EXPECT_EQ(all.find("0123456789abcdef0123"), std::string::npos);  // Secrets stay out of errors.
}

TEST(ConfigLoaderTest, TlsAndAdmissionLimits) {
  ConfigResult ok = LoadConfigString(std::string(R"(
server:
  max_inflight_requests: 32
  max_inflight_bytes: 16777216
  tls: {cert_file: /etc/tls/tls.crt, key_file: /etc/tls/tls.key, min_version: 1.3}
)") + kMinimal);
  ASSERT_TRUE(ok.ok()) << (ok.errors.empty() ? "" : ok.errors[0]);
  EXPECT_EQ(ok.config->server.max_inflight_requests, 32u);
  EXPECT_EQ(ok.config->server.max_inflight_bytes, 16777216u);
  EXPECT_TRUE(ok.config->server.tls.enabled());
  EXPECT_EQ(ok.config->server.tls.key_file, "/etc/tls/tls.key");
  EXPECT_EQ(ok.config->server.tls.min_version, 13);

  ConfigResult defaults = LoadConfigString(kMinimal);
  ASSERT_TRUE(defaults.ok());
  EXPECT_FALSE(defaults.config->server.tls.enabled());
  EXPECT_EQ(defaults.config->server.tls.min_version, 12);
  EXPECT_EQ(defaults.config->server.max_inflight_bytes, size_t{64} << 20);
  EXPECT_EQ(defaults.config->server.max_inflight_requests, 256u);

  ConfigResult bad = LoadConfigString(std::string(R"(
server:
  max_body_bytes: 1048576
  max_inflight_bytes: 65536
  max_inflight_requests: 0
  tls: {cert_file: /c.pem, min_version: "1.1", ciphers: x}
)") + kMinimal);
  ASSERT_FALSE(bad.ok());
  std::string all;
  for (const std::string& e : bad.errors) all += e + "\n";
  EXPECT_THAT(all, HasSubstr("server.max_inflight_bytes: must be at least max_body_bytes"));
  EXPECT_THAT(all, HasSubstr("server.max_inflight_requests"));
  EXPECT_THAT(all, HasSubstr("server.tls.key_file: TLS needs both cert_file and key_file"));
  EXPECT_THAT(all, HasSubstr("server.tls.min_version: expected \"1.2\" or \"1.3\""));
  EXPECT_THAT(all, HasSubstr("server.tls.ciphers"));
}

TEST(ConfigLoaderTest, MissingFileIsAnError) {
  ConfigResult r = LoadConfigFile("/nonexistent/modelmon.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.errors[0], HasSubstr("cannot open file"));
}

TEST(DurationTest, ParsesPrometheusStyleDurations) {
  EXPECT_EQ(ParseDuration("500ms"), std::chrono::milliseconds(500));
  EXPECT_EQ(ParseDuration("10s"), std::chrono::seconds(10));
  EXPECT_EQ(ParseDuration("1.5s"), std::chrono::milliseconds(1500));
  EXPECT_EQ(ParseDuration("5m"), std::chrono::minutes(5));
  EXPECT_EQ(ParseDuration("24h"), std::chrono::hours(24));
  EXPECT_EQ(ParseDuration("7d"), std::chrono::hours(24 * 7));
  EXPECT_EQ(ParseDuration("0"), std::chrono::milliseconds(0));  // As in Prometheus.
  EXPECT_FALSE(ParseDuration("30"));                            // A bare number needs its unit.
  EXPECT_FALSE(ParseDuration("1.5"));
  EXPECT_FALSE(ParseDuration(""));
  EXPECT_FALSE(ParseDuration("s"));
  EXPECT_FALSE(ParseDuration("10 s"));
  EXPECT_FALSE(ParseDuration("10w"));
  EXPECT_FALSE(ParseDuration("-1s"));
  EXPECT_FALSE(ParseDuration("99999999999d"));
}

TEST(DurationTest, RecognisesBareNumbers) {
  EXPECT_TRUE(IsBareNumberDuration("10"));
  EXPECT_TRUE(IsBareNumberDuration("1.5"));
  EXPECT_FALSE(IsBareNumberDuration("0"));
  EXPECT_FALSE(IsBareNumberDuration("10s"));
  EXPECT_FALSE(IsBareNumberDuration(""));
  EXPECT_FALSE(IsBareNumberDuration("ten"));
}

TEST(ConfigLoaderTest, BareNumberDurationsAreRefusedWithTheUnitToWrite) {
  ConfigResult r = LoadConfigString(std::string(R"(
evaluation_interval: 10
server: {request_timeout: 2.5}
state: {snapshot_path: s.snap, snapshot_interval: "30"}
alerts:
  - {name: A, metric: drift_p_value, op: "<", threshold: 0.01, for: 30}
)") + kMinimal);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.errors,
              ::testing::UnorderedElementsAre(
                  "evaluation_interval: a bare number is not a duration; write 10s (or 10ms, 10m, "
                  "10h, 10d)",
                  "server.request_timeout: a bare number is not a duration; write 2.5s (or 2.5ms, "
                  "2.5m, 2.5h, 2.5d)",
                  "state.snapshot_interval: a bare number is not a duration; write 30s (or 30ms, "
                  "30m, 30h, 30d)",
                  "alerts[0].for: a bare number is not a duration; write 30s (or 30ms, 30m, 30h, "
                  "30d)"));
  // Zero needs no unit where zero is allowed.
  ConfigResult zero = LoadConfigString(std::string(R"(
alerts:
  - {name: A, metric: drift_p_value, op: "<", threshold: 0.01, for: 0}
)") + kMinimal);
  ASSERT_TRUE(zero.ok()) << ::testing::PrintToString(zero.errors);
  EXPECT_EQ(zero.config->alerts[0].for_duration, std::chrono::milliseconds(0));
}

TEST(ConfigLoaderTest, TokensWithControlCharactersAreConfigErrors) {
  ConfigResult r = LoadConfigString(std::string(R"(
server:
  auth: {ingest_token: "0123456789abcdef\r\nX-Injected: 1", admin_token: "0123456789abcdef\tx",
         read_token: "0123456789abcdef\u007f"}
)") + kMinimal);
  ASSERT_FALSE(r.ok());
  const std::string all = ::testing::PrintToString(r.errors);
  for (const char* scope : {"ingest", "admin", "read"}) {
    EXPECT_THAT(all, HasSubstr(std::string("server.auth.") + scope +
                               "_token: a token may not contain control characters"));
  }
  EXPECT_EQ(r.errors.size(), 3u) << all;
  EXPECT_EQ(all.find("X-Injected"), std::string::npos);  // Secrets stay out of errors.
}

class ConfigFileTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& name) const {
    return ::testing::TempDir() + "/config_file_test_" + std::to_string(::getpid()) + "_" + name;
  }
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = Path(name);
    std::ofstream(path, std::ios::binary) << text;
    created_.push_back(path);
    return path;
  }
  std::string Fifo(const std::string& name) {
    const std::string path = Path(name);
    ::unlink(path.c_str());
    EXPECT_EQ(::mkfifo(path.c_str(), 0600), 0);
    created_.push_back(path);
    return path;
  }
  ~ConfigFileTest() override {
    for (const std::string& path : created_) ::unlink(path.c_str());
  }

 private:
  std::vector<std::string> created_;
};

TEST_F(ConfigFileTest, TokenFileIsTrimmedAndMustHoldOnePrintableToken) {
  const std::string good = Write("good.token", "0123456789abcdef0123\n");
  const std::string two_lines = Write("two.token", "0123456789abcdef\n0123456789abcdef\n");
  ConfigResult ok = LoadConfigString("server: {auth: {ingest_token_file: " + good + "}}\n" +
                                     std::string(kMinimal));
  ASSERT_TRUE(ok.ok()) << ::testing::PrintToString(ok.errors);
  EXPECT_EQ(ok.config->server.ingest_token, "0123456789abcdef0123");
  ConfigResult bad = LoadConfigString("server: {auth: {ingest_token_file: " + two_lines + "}}\n" +
                                      std::string(kMinimal));
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.errors, ElementsAre(HasSubstr("server.auth.ingest_token: a token may not "
                                                "contain control characters")));
}

TEST_F(ConfigFileTest, SpecialFilesAreRefusedWithoutBlocking) {
  const std::string fifo = Fifo("token.fifo");
  for (const std::string& file : {fifo, std::string("/dev/zero")}) {
    ConfigResult r = LoadConfigString("server: {auth: {read_token_file: " + file + "}}\n" +
                                      std::string(kMinimal));
    ASSERT_FALSE(r.ok());
    EXPECT_THAT(r.errors, ElementsAre("server.auth.read_token_file: cannot read the token: " +
                                      file + ": not a regular file (" +
                                      (file == fifo ? "a FIFO" : "a character device") + ")"));
  }
  const std::string config_fifo = Fifo("config.fifo");
  ConfigResult from_fifo = LoadConfigFile(config_fifo);
  EXPECT_THAT(from_fifo.errors, ElementsAre(config_fifo + ": not a regular file (a FIFO)"));
  ConfigResult from_zero = LoadConfigFile("/dev/zero");
  EXPECT_THAT(from_zero.errors, ElementsAre("/dev/zero: not a regular file (a character device)"));
}

TEST_F(ConfigFileTest, ConfigFileIsBoundedAt4MiB) {
  // A valid config padded with a comment to exactly the limit loads; one byte more does not.
  std::string text = kMinimal;
  text += "#";
  text.append(kMaxConfigFileBytes - text.size() - 1, 'x');
  text += "\n";
  ASSERT_EQ(text.size(), kMaxConfigFileBytes);
  const std::string at_limit = Write("at_limit.yaml", text);
  ConfigResult ok = LoadConfigFile(at_limit);
  EXPECT_TRUE(ok.ok()) << ::testing::PrintToString(ok.errors);
  const std::string over = Write("over.yaml", text + "\n");
  ConfigResult r = LoadConfigFile(over);
  EXPECT_THAT(r.errors, ElementsAre(over + ": file larger than the limit of 4194304 bytes"));
}

TEST(ConfigLoaderTest, OverflowBinNameIsNotAClass) {
  ConfigResult r = LoadConfigString(R"(
models:
  - name: m
    task: multiclass_classification
    classes: [a, __other__]
    features: [{name: x, type: numerical}]
    reference: {capture: 10}
)");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.errors, ElementsAre(HasSubstr("models[0].classes[1]: \"__other__\" is reserved")));
}

}  // namespace
}  // namespace modelmon
