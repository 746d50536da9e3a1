#include "state/snapshot_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "common/fake_clock.h"

namespace modelmon::state {
namespace {

TEST(ResolveConfigPathTest, RelativeToTheConfigurationFile) {
  Config config;
  config.source_path = "/etc/modelmon/modelmon.yaml";
  EXPECT_EQ(ResolveConfigPath(config, "state.snap"), "/etc/modelmon/state.snap");
  EXPECT_EQ(ResolveConfigPath(config, "data/ref.csv"), "/etc/modelmon/data/ref.csv");
  EXPECT_EQ(ResolveConfigPath(config, "/var/lib/x.snap"), "/var/lib/x.snap");
  EXPECT_EQ(ResolveConfigPath(config, ""), "");
}

TEST(ResolveConfigPathTest, UnchangedWithoutAConfigurationFile) {
  Config config;
  EXPECT_EQ(ResolveConfigPath(config, "state.snap"), "state.snap");
  EXPECT_EQ(ResolveConfigPath(config, "/var/lib/x.snap"), "/var/lib/x.snap");
}

class SnapshotStoreTest : public ::testing::Test {
 protected:
  SnapshotStoreTest()
      : dir_(std::filesystem::temp_directory_path() /
             ("modelmon_store_" + std::to_string(::getpid()) + "_" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name())),
        metrics_(registry_),
        alerting_(std::vector<AlertRuleConfig>{}, &metrics_) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  ~SnapshotStoreTest() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
  testing::FakeClock clock_;
  metrics::Registry registry_;
  DaemonMetrics metrics_;
  Alerting alerting_;
  ingest::EventParser parser_{std::vector<std::shared_ptr<const ingest::ModelSchema>>{}};
  std::vector<std::unique_ptr<ModelState>> models_;
};

TEST_F(SnapshotStoreTest, OffWithoutAPath) {
  Config config;
  SnapshotStore store(config, &clock_, &registry_, &metrics_);
  EXPECT_FALSE(store.enabled());
  EXPECT_EQ(store.Restore(models_, parser_, &alerting_).outcome,
            SnapshotRestoreReport::Outcome::kOff);
  EXPECT_TRUE(store.Write(models_, alerting_).written);
  EXPECT_EQ(registry_.Serialize().find("modelmon_snapshot_writes_total "), std::string::npos);
}

TEST_F(SnapshotStoreTest, WritesThenRestoresAndSetsCorruptFilesAside) {
  Config config;
  config.source_path = (dir_ / "modelmon.yaml").string();
  config.state.snapshot_path = "state.snap";
  SnapshotStore store(config, &clock_, &registry_, &metrics_);
  ASSERT_TRUE(store.enabled());
  EXPECT_EQ(store.path(), (dir_ / "state.snap").string());
  EXPECT_EQ(store.Restore(models_, parser_, &alerting_).outcome,
            SnapshotRestoreReport::Outcome::kMissing);

  const SnapshotWriteReport written = store.Write(models_, alerting_);
  EXPECT_TRUE(written.written) << written.error;
  EXPECT_GT(written.bytes, 0u);
  EXPECT_TRUE(std::filesystem::exists(store.path()));
  EXPECT_EQ(store.Restore(models_, parser_, &alerting_).outcome,
            SnapshotRestoreReport::Outcome::kRestored);

  { std::ofstream(store.path(), std::ios::binary | std::ios::trunc) << "not a snapshot"; }
  const SnapshotRestoreReport corrupt = store.Restore(models_, parser_, &alerting_);
  EXPECT_EQ(corrupt.outcome, SnapshotRestoreReport::Outcome::kCorrupt);
  EXPECT_FALSE(corrupt.reason.empty());
  EXPECT_EQ(corrupt.set_aside.rfind("moved to " + store.path() + ".corrupt-", 0), 0u)
      << corrupt.set_aside;
  EXPECT_FALSE(std::filesystem::exists(store.path()));
  const std::string exposition = registry_.Serialize();
  EXPECT_NE(exposition.find("modelmon_snapshot_writes_total 1"), std::string::npos);
  EXPECT_NE(exposition.find("modelmon_snapshot_restore_failures_total{reason=\"" + corrupt.reason +
                            "\"} 1"),
            std::string::npos)
      << exposition;
}

TEST_F(SnapshotStoreTest, AFailedWriteIsReportedOnceUntilItRecovers) {
  Config config;
  config.state.snapshot_path = (dir_ / "missing" / "state.snap").string();
  SnapshotStore store(config, &clock_, &registry_, &metrics_);
  const SnapshotWriteReport first = store.Write(models_, alerting_);
  EXPECT_FALSE(first.written);
  EXPECT_TRUE(first.first_failure);
  EXPECT_FALSE(first.error.empty());
  const SnapshotWriteReport second = store.Write(models_, alerting_);
  EXPECT_FALSE(second.written);
  EXPECT_FALSE(second.first_failure);
  std::filesystem::create_directories(dir_ / "missing");
  const SnapshotWriteReport third = store.Write(models_, alerting_);
  EXPECT_TRUE(third.written);
  EXPECT_TRUE(third.recovered);
  EXPECT_FALSE(store.Write(models_, alerting_).recovered);
  EXPECT_NE(registry_.Serialize().find("modelmon_snapshot_write_failures_total 2"),
            std::string::npos);
}

}  // namespace
}  // namespace modelmon::state
