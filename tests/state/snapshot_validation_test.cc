#include "state/snapshot_validation.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/checksum.h"
#include "common/fake_clock.h"
#include "state/alerting.h"
#include "state/snapshot.h"
#include "state/snapshot_file.h"
#include "state/snapshot_store.h"

namespace modelmon::state {
namespace {

using std::chrono::seconds;

ModelConfig TestModel() {
  ModelConfig m;
  m.name = "m";
  m.task = Task::kBinaryClassification;
  m.classes = {"0", "1"};
  m.positive_class = "1";
  m.features = {{"x", FeatureType::kNumerical, {}, {}}, {"c", FeatureType::kCategorical, {}, {}}};
  m.window.size = 100;
  m.reference.capture = 20;
  m.drift.numerical_tests = {"ks"};
  m.drift.categorical_tests = {"chi2"};
  m.drift.min_samples = 5;
  m.max_versions = 2;
  m.performance.max_pending = 50;
  m.performance.max_pending_labels = 50;
  return m;
}

ingest::PredictionEvent Event(int i, const std::string& id) {
  ingest::PredictionEvent e;
  e.id = id;
  e.model_version = i % 2 ? "v1" : "v2";
  e.columns.resize(4);
  e.columns[0].kind = ingest::Value::Kind::kNumber;
  e.columns[0].number = i % 7;
  e.columns[1].kind = ingest::Value::Kind::kCategory;
  e.columns[1].category = i % 3 ? "a" : "b";
  e.columns[2].kind = ingest::Value::Kind::kCategory;
  e.columns[2].category = "1";
  e.predicted_class = 1;
  e.score = 0.25;
  return e;
}

ingest::GroundTruthEvent Label(const std::string& id) {
  ingest::GroundTruthEvent g;
  g.id = id;
  g.label_class = 0;
  return g;
}

Config TestConfig(const std::filesystem::path& dir) {
  Config config;
  config.models = {TestModel()};
  AlertRuleConfig rule;  // Fires at the first evaluation: pending ground truth is always >= 0.
  rule.name = "Pending";
  rule.metric = "ground_truth_pending";
  rule.op = ">=";
  rule.threshold = 0;
  config.alerts = {rule};
  config.state.snapshot_path = (dir / "state.snap").string();
  return config;
}

// One daemon's worth of state objects, built from a config like Service::Create does.
struct Daemon {
  explicit Daemon(const Config& c, const Clock* clock)
      : config(c),
        metrics(registry),
        schema(std::make_shared<const ingest::ModelSchema>(config.models[0])),
        parser(std::vector<std::shared_ptr<const ingest::ModelSchema>>{schema}),
        alerting(config.alerts, &metrics),
        store(config, clock, &registry, &metrics) {
    models.push_back(std::make_unique<ModelState>(schema, &metrics, clock));
  }
  // Evaluation and exposition: what the daemon does a second after start.
  std::string EvaluateAndExpose(const Clock* clock) {
    models[0]->Evaluate();
    alerting.Evaluate({models[0]->Status()}, clock->Now());
    return registry.Serialize();
  }

  Config config;
  metrics::Registry registry;
  DaemonMetrics metrics;
  std::shared_ptr<const ingest::ModelSchema> schema;
  ingest::EventParser parser;
  Alerting alerting;
  SnapshotStore store;
  std::vector<std::unique_ptr<ModelState>> models;
};

class SnapshotValidationTest : public ::testing::Test {
 protected:
  SnapshotValidationTest()
      : dir_(std::filesystem::temp_directory_path() /
             ("modelmon_validation_" + std::to_string(::getpid()) + "_" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name())) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    config_ = TestConfig(dir_);
  }
  ~SnapshotValidationTest() override { std::filesystem::remove_all(dir_); }

  // A real snapshot: a captured reference, a window, pending joins, joined pairs, a firing alert
  // and counters, decoded back from the file the store wrote.
  Snapshot RealSnapshot() {
    Daemon d(config_, &clock_);
    std::vector<ingest::PredictionEvent> events;
    for (int i = 0; i < 40; ++i) events.push_back(Event(i, "id" + std::to_string(i)));
    d.models[0]->AddPredictions(events);
    std::vector<ingest::GroundTruthEvent> labels;
    for (int i = 0; i < 10; ++i) labels.push_back(Label("id" + std::to_string(i)));
    labels.push_back(Label("early"));
    d.models[0]->AddGroundTruth(labels);
    d.EvaluateAndExpose(&clock_);
    const SnapshotWriteReport written = d.store.Write(d.models, d.alerting);
    EXPECT_TRUE(written.written) << written.error;
    std::string bytes, error;
    EXPECT_EQ(ReadSnapshotFile(config_.state.snapshot_path, 1 << 24, &bytes, &error),
              SnapshotReadStatus::kOk)
        << error;
    DecodeResult decoded = DecodeSnapshot(bytes);
    EXPECT_TRUE(decoded.snapshot) << decoded.message;
    return decoded.snapshot ? *decoded.snapshot : Snapshot{};
  }

  // Writes `bytes` as the snapshot, restores it into a fresh daemon and checks that it was refused
  // whole with `reason`, set aside, counted, and that the daemon then works normally.
  void ExpectRefused(const std::string& bytes, const std::string& reason) {
    { std::ofstream(config_.state.snapshot_path, std::ios::binary | std::ios::trunc) << bytes; }
    Daemon d(config_, &clock_);
    const SnapshotRestoreReport r = d.store.Restore(d.models, d.parser, &d.alerting);
    EXPECT_EQ(r.outcome, SnapshotRestoreReport::Outcome::kCorrupt);
    EXPECT_EQ(r.reason, reason) << r.error;
    EXPECT_FALSE(r.error.empty());
    EXPECT_EQ(r.set_aside.rfind("moved to " + config_.state.snapshot_path + ".corrupt-", 0), 0u)
        << r.set_aside;
    EXPECT_FALSE(std::filesystem::exists(config_.state.snapshot_path));
    for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
      std::filesystem::remove(entry.path());  // The set-aside file, for the next case.
    }
    // Nothing was restored: the model starts clean, ingests, evaluates and is exposed.
    EXPECT_EQ(d.models[0]->Status().window_events, 0u);
    EXPECT_EQ(d.models[0]->Status().pending_predictions, 0u);
    EXPECT_TRUE(d.alerting.Active().empty());
    std::vector<ingest::PredictionEvent> events;
    for (int i = 0; i < 30; ++i) events.push_back(Event(i, "n" + std::to_string(i)));
    d.models[0]->AddPredictions(events);
    std::string exposition;
    EXPECT_NO_THROW(exposition = d.EvaluateAndExpose(&clock_));
    EXPECT_EQ(d.models[0]->Status().window_events, 30u);
    EXPECT_NE(
        exposition.find("modelmon_snapshot_restore_failures_total{reason=\"" + reason + "\"} 1"),
        std::string::npos);
    EXPECT_NE(exposition.find("modelmon_alert_state{"), std::string::npos);
  }

  void ExpectInvalid(const std::function<void(Snapshot&)>& mutate) {
    Snapshot s = RealSnapshot();
    mutate(s);
    ExpectRefused(EncodeSnapshot(s), "invalid");
  }

  std::filesystem::path dir_;
  Config config_;
  testing::FakeClock clock_;
};

TEST_F(SnapshotValidationTest, ARealSnapshotPassesAndRestores) {
  Snapshot s = RealSnapshot();
  std::string error;
  ASSERT_TRUE(ValidateSnapshot(s, &error)) << error;
  ASSERT_EQ(s.models.size(), 1u);
  EXPECT_TRUE(ValidateModelSnapshot(s.models[0], ingest::ModelSchema(TestModel()), &error))
      << error;
  // The fixture's alert fired (per kind): the invalid-label cases reach the alert engine.
  ASSERT_EQ(s.alerts.size(), 2u);
  EXPECT_FALSE(s.models[0].pending_predictions.empty());
  EXPECT_FALSE(s.models[0].pending_labels.empty());
  Daemon d(config_, &clock_);
  const SnapshotRestoreReport r = d.store.Restore(d.models, d.parser, &d.alerting);
  EXPECT_EQ(r.outcome, SnapshotRestoreReport::Outcome::kRestored) << r.error;
  EXPECT_EQ(r.alerts, 2u);
  EXPECT_EQ(d.models[0]->Status().window_events, 40u);
}

// The crash that motivated the checks: a label name prometheus-cpp refuses, in a restored alert,
// threw std::invalid_argument at the first evaluation, on every restart.
TEST_F(SnapshotValidationTest, InvalidLabelNameInAnAlertIsRefused) {
  ExpectInvalid([](Snapshot& s) { s.alerts[0].labels["bad-name"] = "x"; });
  ExpectInvalid([](Snapshot& s) { s.alerts[0].labels["__reserved"] = "x"; });
  ExpectInvalid([](Snapshot& s) { s.alerts[0].labels["model"] = "m\xff"; });
  ExpectInvalid([](Snapshot& s) { s.alerts[0].labels["alertname"] = "Other"; });
}

TEST_F(SnapshotValidationTest, InvalidBytesInNamesAndCategoriesAreRefused) {
  ExpectInvalid([](Snapshot& s) { s.models[0].name = "m\x01"; });
  ExpectInvalid([](Snapshot& s) { s.models[0].window_columns[1].names[0] = "a\xc0\xaf"; });
  ExpectInvalid([](Snapshot& s) { s.models[0].versions[0] = "v\xed\xa0\x80"; });
  ExpectInvalid([](Snapshot& s) {
    s.models[0].pending_predictions[0].prediction.version = std::string(129, 'v');
  });
  ExpectInvalid([](Snapshot& s) { s.counters[0].labels["bad label"] = "x"; });
  ExpectInvalid([](Snapshot& s) { s.counters[0].name = "modelmon_bogus"; });
  ExpectInvalid([](Snapshot& s) { s.models[0].reference_source = "somewhere"; });
  ExpectInvalid([](Snapshot& s) { s.models[0].baseline["not_a_metric"] = 1; });
}

TEST_F(SnapshotValidationTest, CountsThatDisagreeAreRefused) {
  // More reference category counts than rows.
  ExpectInvalid([](Snapshot& s) { s.models[0].reference->categories[1][0].second += 1000; });
  // A window column with the wrong type for the schema.
  ExpectInvalid([](Snapshot& s) {
    auto& c = s.models[0].window_columns[0];
    c.ids.assign(c.numbers.size(), 0);
    c.names = {"a"};
    c.numbers.clear();
  });
  // A column fewer than the schema has.
  ExpectInvalid([](Snapshot& s) { s.models[0].window_columns.pop_back(); });
  // More events than window.size (100).
  ExpectInvalid([](Snapshot& s) {
    ModelSnapshot& m = s.models[0];
    for (int i = 0; i < 70; ++i) {
      m.window_ages_ns.push_back(0);
      m.window_columns[0].numbers.push_back(1);
      m.window_columns[1].ids.push_back(0);
      m.window_columns[2].ids.push_back(0);
      m.window_columns[3].numbers.push_back(0.5);
    }
  });
  // A pending label with a pending prediction's id: they would have joined.
  ExpectInvalid([](Snapshot& s) {
    s.models[0].pending_labels[0].id = s.models[0].pending_predictions[0].id;
  });
  ExpectInvalid([](Snapshot& s) {
    s.models[0].pending_predictions.push_back(s.models[0].pending_predictions[0]);
  });
  // A class index the model does not have.
  ExpectInvalid(
      [](Snapshot& s) { s.models[0].pending_predictions[0].prediction.predicted_class = 7; });
  // Firing without a firing time.
  ExpectInvalid([](Snapshot& s) { s.alerts[0].fired_age_ns.reset(); });
  // The same model twice.
  ExpectInvalid([](Snapshot& s) { s.models.push_back(s.models[0]); });
}

TEST_F(SnapshotValidationTest, NonFiniteNumbersAreRefused) {
  ExpectInvalid([](Snapshot& s) { s.models[0].performance[0].second[0].y_true = NAN; });
  ExpectInvalid([](Snapshot& s) { s.models[0].window_columns[0].numbers[0] = INFINITY; });
  ExpectInvalid([](Snapshot& s) { s.models[0].reference->numbers[0][0].first = NAN; });
  ExpectInvalid([](Snapshot& s) { s.alerts[0].last_value = NAN; });
  // NaN where a count is expected: the counter's value is refused by the decoder.
  Snapshot s = RealSnapshot();
  s.counters[0].value = NAN;
  ExpectRefused(EncodeSnapshot(s), "corrupt");
}

TEST_F(SnapshotValidationTest, HugeLengthsAreRefused) {
  // A category longer than the ingest limit.
  ExpectInvalid(
      [](Snapshot& s) { s.models[0].window_columns[1].names[0] = std::string(2000, 'a'); });
  ExpectInvalid([](Snapshot& s) { s.models[0].pending_labels[0].id = std::string(300, 'i'); });
  // A string length of 2^32 - 16 in the first model's name: refused before allocating.
  std::string bytes = EncodeSnapshot(RealSnapshot());
  // Header (24) + meta section (4 + 8 + 8) + model section tag and length (12): the name length.
  const size_t at = 24 + 20 + 12;
  ASSERT_EQ(bytes.substr(at, 4), std::string("\x01\0\0\0", 4));
  bytes.replace(at, 4, std::string("\xf0\xff\xff\xff", 4));
  const std::string_view payload = std::string_view(bytes).substr(24);
  const uint32_t crc = Crc32c(payload);  // Still checksum-valid: the content check refuses it.
  for (size_t i = 0; i < 4; ++i) bytes[20 + i] = static_cast<char>(crc >> (8 * i));
  ExpectRefused(bytes, "corrupt");
}

TEST(SnapshotValidationFunctionsTest, Utf8AndNames) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("é\"y \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // Overlong.
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));      // Overlong.
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // Surrogate.
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // Past U+10FFFF.
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));          // Cut short.
  EXPECT_TRUE(IsValidLabelName("model_version"));
  EXPECT_TRUE(IsValidLabelName("_x1"));
  EXPECT_FALSE(IsValidLabelName("1x"));
  EXPECT_FALSE(IsValidLabelName("__name__"));
  EXPECT_FALSE(IsValidLabelName("a-b"));
  EXPECT_FALSE(IsValidLabelName(""));
  EXPECT_TRUE(IsValidSnapshotName("fraud-v2.1:eu"));
  EXPECT_FALSE(IsValidSnapshotName("a b"));
  EXPECT_FALSE(IsValidSnapshotName(std::string(129, 'a')));
}

TEST(SnapshotFileReadTest, RefusesFifosAndDevicesWithoutBlockingOrReading) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("modelmon_fifo_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string fifo = (dir / "state.snap").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::string bytes, error;
  // No writer: a blocking open would hang here.
  EXPECT_EQ(ReadSnapshotFile(fifo, 1 << 20, &bytes, &error), SnapshotReadStatus::kNotRegular);
  EXPECT_NE(error.find("a FIFO"), std::string::npos) << error;
  EXPECT_EQ(ReadSnapshotFile("/dev/zero", 1 << 20, &bytes, &error),
            SnapshotReadStatus::kNotRegular);
  EXPECT_NE(error.find("/dev/zero"), std::string::npos) << error;
  EXPECT_TRUE(bytes.empty());
  // A write never replaces what is not a regular file.
  EXPECT_FALSE(WriteFileAtomically(fifo, "x", &error));
  EXPECT_NE(error.find("not a regular file"), std::string::npos) << error;
  struct stat st {};
  ASSERT_EQ(::stat(fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_FALSE(std::filesystem::exists(fifo + ".tmp"));
  std::filesystem::remove_all(dir);
}

TEST(SnapshotFileReadTest, MissingAndTooLarge) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("modelmon_large_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "state.snap").string();
  std::string bytes, error;
  EXPECT_EQ(ReadSnapshotFile(path, 16, &bytes, &error), SnapshotReadStatus::kMissing);
  { std::ofstream(path) << std::string(17, 'x'); }
  EXPECT_EQ(ReadSnapshotFile(path, 16, &bytes, &error), SnapshotReadStatus::kTooLarge);
  EXPECT_EQ(ReadSnapshotFile(path, 17, &bytes, &error), SnapshotReadStatus::kOk);
  EXPECT_EQ(bytes, std::string(17, 'x'));
  std::filesystem::remove_all(dir);
}

TEST(SnapshotStoreNotRegularTest, ADevicePathIsReportedAsNotRegular) {
  Config config;
  config.state.snapshot_path = "/dev/zero";
  testing::FakeClock clock;
  metrics::Registry registry;
  DaemonMetrics metrics(registry);
  Alerting alerting({}, &metrics);
  ingest::EventParser parser{std::vector<std::shared_ptr<const ingest::ModelSchema>>{}};
  std::vector<std::unique_ptr<ModelState>> models;
  SnapshotStore store(config, &clock, &registry, &metrics);
  const SnapshotRestoreReport r = store.Restore(models, parser, &alerting);
  EXPECT_EQ(r.outcome, SnapshotRestoreReport::Outcome::kNotRegular);
  EXPECT_NE(r.error.find("character device"), std::string::npos) << r.error;
  EXPECT_FALSE(store.Write(models, alerting).written);  // /dev/zero is never replaced.
}

// Counters and model state in one snapshot are one cut: with ingestion running on several threads,
// every exported snapshot satisfies the join's accounting exactly.
TEST(SnapshotConsistentCutTest, CountersAgreeWithStateInEverySnapshot) {
  ModelConfig model = TestModel();
  model.performance.max_pending = 64;  // Small: evictions happen and are counted too.
  model.performance.max_pending_labels = 64;
  model.reference.capture = 0;
  auto schema = std::make_shared<const ingest::ModelSchema>(model);
  testing::FakeClock clock;
  metrics::Registry registry;
  DaemonMetrics metrics(registry);
  std::vector<std::unique_ptr<ModelState>> models;
  models.push_back(std::make_unique<ModelState>(schema, &metrics, &clock));
  ModelState& state = *models[0];

  constexpr int kThreads = 3;
  constexpr int kBatches = 300;
  std::atomic<int> running{kThreads};
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int b = 0; b < kBatches; ++b) {
        std::vector<ingest::PredictionEvent> events;
        std::vector<ingest::GroundTruthEvent> labels;
        for (int i = 0; i < 4; ++i) {
          const std::string id =
              std::to_string(t) + "-" + std::to_string(b) + "-" + std::to_string(i);
          events.push_back(Event(i, id));
          // Labels for half of the ids, some before their prediction.
          if (i % 2 == 0) labels.push_back(Label(id));
        }
        if (b % 2 == 0) state.AddGroundTruth(labels);
        state.AddPredictions(events);
        if (b % 2 == 1) state.AddGroundTruth(labels);
      }
      --running;
    });
  }
  int cuts = 0;
  while (running.load() > 0 || cuts < 5) {
    std::map<std::string, double> c;  // "name{kind}" -> value, this model's series.
    std::vector<ModelSnapshot> snapshots = ModelState::ExportSnapshots(models, clock.Now(), [&] {
      for (const auto& v : registry.Counters("modelmon_")) {
        auto kind = v.labels.find("kind");
        c[v.name + (kind != v.labels.end() ? "{" + kind->second + "}" : "")] += v.value;
      }
    });
    ASSERT_EQ(snapshots.size(), 1u);
    const ModelSnapshot& s = snapshots[0];
    // Every prediction has an id: it is pending, joined, evicted or a duplicate (expiry is off).
    EXPECT_EQ(c["modelmon_predictions_total"],
              c["modelmon_ground_truth_joined_total"] +
                  static_cast<double>(s.pending_predictions.size()) +
                  c["modelmon_ground_truth_evicted_total{prediction}"] +
                  c["modelmon_ground_truth_duplicates_total{prediction}"] +
                  c["modelmon_ground_truth_expired_total{prediction}"])
        << "cut " << cuts;
    EXPECT_EQ(c["modelmon_events_total{ground_truth}"],
              c["modelmon_ground_truth_joined_total"] +
                  static_cast<double>(s.pending_labels.size()) +
                  c["modelmon_ground_truth_evicted_total{label}"] +
                  c["modelmon_ground_truth_duplicates_total{label}"] +
                  c["modelmon_ground_truth_expired_total{label}"])
        << "cut " << cuts;
    EXPECT_EQ(c["modelmon_events_total{prediction}"], c["modelmon_predictions_total"]);
    ++cuts;
  }
  for (auto& w : writers) w.join();
  EXPECT_GE(cuts, 5);
}

}  // namespace
}  // namespace modelmon::state
