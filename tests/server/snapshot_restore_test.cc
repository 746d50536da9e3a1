#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "common/fake_clock.h"
#include "server/service.h"

namespace modelmon::server {
namespace {

using json = nlohmann::json;
using std::chrono::seconds;
using testing::FakeClock;

// Two models: "fraud" (binary, reference promoted from its window, pending joins, performance
// pairs, a firing and a pending alert) and "price" (regression, reference capture in progress).
constexpr const char* kConfig = R"(
server: {listen: "127.0.0.1:0"}
state: {snapshot_path: "SNAPSHOT", snapshot_interval: 1s}
alerts:
  - {name: Missing, metric: missing_ratio, op: ">", threshold: 0.05, for: 0s}
  - {name: Backlog, metric: ground_truth_pending, model: fraud, op: ">", threshold: 0, for: 1h}
models:
  - name: fraud
    task: binary_classification
    classes: ["0", "1"]
    features:
      - {name: a, type: numerical}
      - {name: c, type: categorical}
    window: {size: WINDOW}
    reference: {capture: 40}
    drift:
      numerical_tests: [ks, psi]
      categorical_tests: [chi2, psi, jensen_shannon]
      min_samples: 10
    performance: {window_size: 20}
  - name: price
    task: regression
    features:
      - {name: rooms, type: numerical}
    reference: {capture: 1000}
)";

class SnapshotRestoreTest : public ::testing::Test {
 protected:
  SnapshotRestoreTest() : dir_(std::filesystem::temp_directory_path() / DirName()) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "state.snap").string();
  }
  ~SnapshotRestoreTest() override { std::filesystem::remove_all(dir_); }

  static std::string DirName() {
    std::string name = "modelmon_restore_";
    name += std::to_string(::getpid());
    name += '_';
    name += ::testing::UnitTest::GetInstance()->current_test_info()->name();
    return name;
  }

  std::unique_ptr<Service> Start(const FakeClock* clock, int window = 500) {
    std::string yaml;
    const std::string_view text = kConfig;
    const size_t snapshot = text.find("SNAPSHOT");
    const size_t size = text.find("WINDOW");
    yaml += text.substr(0, snapshot);
    yaml += path_;
    yaml += text.substr(snapshot + 8, size - snapshot - 8);
    yaml += std::to_string(window);
    yaml += text.substr(size + 6);
    ConfigResult config = LoadConfigString(yaml);
    EXPECT_TRUE(config.ok()) << ::testing::PrintToString(config.errors);
    std::string error;
    auto service = Service::Create(*config.config, clock, &error);
    EXPECT_TRUE(service) << error;
    return service;
  }

  static HttpResponse Call(Service& s, std::string_view method, std::string_view target,
                           const std::string& body = "") {
    HttpRequest r;
    r.method = method;
    r.target = target;
    r.content_type = "application/json";
    r.body = body;
    return s.Handle(r);
  }

  // Every modelmon_ sample except request accounting, snapshot bookkeeping and histograms (which
  // are not snapshotted), sorted.
  static std::string StateMetrics(Service& s) {
    std::istringstream in(s.registry().Serialize());
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("modelmon_", 0) != 0 || line.rfind("modelmon_http_", 0) == 0 ||
          line.rfind("modelmon_snapshot_", 0) == 0 || line.find("_bucket{") != std::string::npos ||
          line.find("_sum") != std::string::npos || line.find("_count") != std::string::npos) {
        continue;
      }
      lines.push_back(line);
    }
    std::sort(lines.begin(), lines.end());
    std::string out;
    for (const std::string& l : lines) {
      out += l;
      out += '\n';
    }
    return out;
  }

  static std::string Id(int i) {
    std::string id = "e";
    id += std::to_string(i);
    return id;
  }

  // Fills "fraud" and "price" with state of every kind.
  void Fill(Service& s, FakeClock& clock) {
    json events = json::array();
    for (int i = 0; i < 60; ++i) {
      json features = {{"a", i % 7 == 0 ? json(nullptr) : json(i * 0.5)},
                       {"c", std::string(1, static_cast<char>('p' + i % 3))}};
      events.push_back({{"model", "fraud"},
                        {"id", Id(i)},
                        {"model_version", i % 2 ? "v1" : "v2"},
                        {"features", features},
                        {"prediction", i % 2},
                        {"score", (i % 10) / 10.0}});
      clock.Advance(std::chrono::milliseconds(10));
    }
    ASSERT_EQ(Call(s, "POST", "/v1/predictions", events.dump()).status, 200);
    ASSERT_EQ(Call(s, "POST", "/v1/models/fraud/reference/promote").status, 200);
    events = json::array();
    for (int i = 60; i < 130; ++i) {
      events.push_back({{"model", "fraud"},
                        {"id", Id(i)},
                        {"features", {{"a", i * 0.7}, {"c", i % 5 == 0 ? "new" : "q"}}},
                        {"prediction", i % 2},
                        {"score", 0.3}});
      events.push_back({{"model", "price"}, {"features", {{"rooms", i % 6}}}, {"prediction", i}});
    }
    ASSERT_EQ(Call(s, "POST", "/v1/predictions", events.dump()).status, 200);
    json truth = json::array();
    for (int i = 0; i < 90; i += 2)
      truth.push_back({{"model", "fraud"}, {"id", Id(i)}, {"label", (i / 2) % 2}});
    truth.push_back({{"model", "fraud"}, {"id", "later"}, {"label", 1}});
    ASSERT_EQ(Call(s, "POST", "/v1/ground-truth", truth.dump()).status, 200);
    clock.Advance(seconds(2));
    s.Evaluate();
  }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(SnapshotRestoreTest, RestoredStateMatchesTheOriginal) {
  FakeClock clock_a;
  auto a = Start(&clock_a);
  Fill(*a, clock_a);
  ASSERT_TRUE(a->WriteSnapshot());
  EXPECT_EQ(a->metrics().snapshot_writes.With({}).Value(), 1);

  // The same moment on a fresh process: no downtime.
  FakeClock clock_b;
  clock_b.Advance(clock_a.Now().time_since_epoch() - clock_b.Now().time_since_epoch());
  auto b = Start(&clock_b);
  a->Evaluate();
  b->Evaluate();
  for (const char* target : {"/v1/models/fraud", "/v1/models/price", "/v1/alerts"}) {
    const HttpResponse ra = Call(*a, "GET", target);
    const HttpResponse rb = Call(*b, "GET", target);
    EXPECT_EQ(json::parse(rb.body), json::parse(ra.body)) << target;
  }
  const json fraud = json::parse(Call(*b, "GET", "/v1/models/fraud").body);
  EXPECT_EQ(fraud["window"]["events"], 130);
  EXPECT_EQ(fraud["reference"]["state"], "ready");
  EXPECT_EQ(fraud["performance"]["pending_labels"], 1);
  EXPECT_EQ(json::parse(Call(*b, "GET", "/v1/models/price").body)["reference"]["rows"], 70);
  const json alerts = json::parse(Call(*b, "GET", "/v1/alerts").body)["alerts"];
  ASSERT_GE(alerts.size(), 2u);
  EXPECT_EQ(StateMetrics(*b), StateMetrics(*a));
  EXPECT_EQ(b->metrics().snapshot_restored_events.With({{"model", "fraud"}}).Value(), 130);

  // Both keep going identically: the restored join still joins, duplicates are still duplicates.
  const std::string truth =
      R"([{"model":"fraud","id":"e1","label":1},{"model":"fraud","id":"e0","label":1}])";
  for (Service* s : {a.get(), b.get()}) {
    EXPECT_EQ(Call(*s, "POST", "/v1/ground-truth", truth).status, 200);
    s->Evaluate();
  }
  EXPECT_EQ(StateMetrics(*b), StateMetrics(*a));
}

TEST_F(SnapshotRestoreTest, DowntimeAgesEverything) {
  FakeClock clock_a;
  auto a = Start(&clock_a);
  Fill(*a, clock_a);
  ASSERT_TRUE(a->WriteSnapshot());
  // Two hours later: the pending alert (for: 1h) fires at the first evaluation, and pending labels
  // (label_ttl 1h) expire.
  FakeClock clock_b;
  clock_b.Advance(clock_a.Now().time_since_epoch() - clock_b.Now().time_since_epoch() +
                  std::chrono::hours(2));
  auto b = Start(&clock_b);
  EXPECT_EQ(json::parse(Call(*b, "GET", "/v1/models/fraud").body)["performance"]["pending_labels"],
            1);
  b->Evaluate();
  EXPECT_EQ(json::parse(Call(*b, "GET", "/v1/models/fraud").body)["performance"]["pending_labels"],
            0);
  bool backlog_firing = false;
  const json alerts = json::parse(Call(*b, "GET", "/v1/alerts").body);
  for (const json& alert : alerts["alerts"]) {
    if (alert["alertname"] == "Backlog" && alert["state"] == "firing") backlog_firing = true;
  }
  EXPECT_TRUE(backlog_firing);
}

TEST_F(SnapshotRestoreTest, ChangedModelStartsCleanOthersRestore) {
  FakeClock clock_a;
  auto a = Start(&clock_a);
  Fill(*a, clock_a);
  ASSERT_TRUE(a->WriteSnapshot());
  FakeClock clock_b;
  auto b = Start(&clock_b, /*window=*/600);  // fraud's window size changed.
  const json fraud = json::parse(Call(*b, "GET", "/v1/models/fraud").body);
  EXPECT_EQ(fraud["window"]["events"], 0);
  EXPECT_EQ(fraud["reference"]["state"], "capturing");
  const json price = json::parse(Call(*b, "GET", "/v1/models/price").body);
  EXPECT_EQ(price["window"]["events"], 70);
  EXPECT_EQ(price["reference"]["rows"], 70);
  EXPECT_EQ(b->metrics().snapshot_restore_failures.With({{"reason", "config_changed"}}).Value(), 1);
  EXPECT_EQ(b->metrics().events.With({{"model", "fraud"}, {"kind", "prediction"}}).Value(), 0);
  EXPECT_EQ(b->metrics().events.With({{"model", "price"}, {"kind", "prediction"}}).Value(), 70);
}

TEST_F(SnapshotRestoreTest, CorruptFileIsSetAsideAndTheServiceStartsClean) {
  FakeClock clock_a;
  auto a = Start(&clock_a);
  Fill(*a, clock_a);
  ASSERT_TRUE(a->WriteSnapshot());
  {
    std::fstream f(path_, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.put('\x5a');
  }
  FakeClock clock_b;
  auto b = Start(&clock_b);
  EXPECT_EQ(b->metrics().snapshot_restore_failures.With({{"reason", "checksum"}}).Value(), 1);
  EXPECT_EQ(json::parse(Call(*b, "GET", "/v1/models/fraud").body)["window"]["events"], 0);
  EXPECT_FALSE(std::filesystem::exists(path_));
  size_t aside = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    aside += entry.path().filename().string().rfind("state.snap.corrupt-", 0) == 0;
  }
  EXPECT_EQ(aside, 1u);
  // It writes a fresh snapshot over the old path.
  EXPECT_TRUE(b->WriteSnapshot());
  EXPECT_TRUE(std::filesystem::exists(path_));
}

TEST_F(SnapshotRestoreTest, FailedWriteIsCountedAndNotFatal) {
  FakeClock clock;
  auto s = Start(&clock);
  std::filesystem::remove_all(dir_);  // The directory is gone.
  EXPECT_FALSE(s->WriteSnapshot());
  EXPECT_FALSE(s->WriteSnapshot());
  EXPECT_EQ(s->metrics().snapshot_write_failures.With({}).Value(), 2);
  EXPECT_EQ(Call(*s, "GET", "/healthz").status, 200);
  std::filesystem::create_directories(dir_);
  EXPECT_TRUE(s->WriteSnapshot());
}

}  // namespace
}  // namespace modelmon::server
