#include "state/snapshot.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "common/checksum.h"
#include "state/snapshot_file.h"

namespace modelmon::state {
namespace {

constexpr size_t kHeaderBytes = 24;  // magic, version, payload length, CRC-32C.

Snapshot SmallSnapshot() {
  Snapshot s;
  s.wall_time = 1.8e9 + 0.25;
  ModelSnapshot m;
  m.name = "fraud";
  m.fingerprint = 0x0123456789abcdefull;
  m.reference_key = "capture:3";
  m.reference_source = "upload";
  SampleSnapshot ref;
  ref.rows = 3;
  ref.numbers = {{{1.5, 2}, {-2.0, 1}}, {}};
  ref.categories = {{}, {{"x", 2}, {"é\"y", 1}}};
  m.reference = ref;
  m.window_ages_ns = {3000, 2000, 0};
  m.window_columns.resize(2);
  m.window_columns[0].numbers = {1.0, NAN, 3.0};
  m.window_columns[1].ids = {0, WindowColumnSnapshot::kMissingCategory, 1};
  m.window_columns[1].names = {"x", "z"};
  m.versions = {"v1", "__other__"};
  m.pending_predictions = {{"id1", 10, {"v1", 1, 0.0, 0.75, {}}}};
  m.pending_labels = {{"id2", 5, {0, 0.0}}};
  m.joined_ids = {"id0"};
  m.performance = {{"__all__", {{7, 1, 0, 0.4, {}, 0, 0}}}, {"v1", {{7, 1, 0, 0.4, {}, 0, 0}}}};
  m.baseline = {{"accuracy", 0.9}};
  s.models.push_back(m);
  s.alerts = {{"Drift", 42, {{"alertname", "Drift"}, {"model", "fraud"}}, true, 100, 50, 0.001}};
  s.counters = {{"modelmon_events_total", {{"model", "fraud"}, {"kind", "prediction"}}, 12}};
  return s;
}

void Rewrite(std::string& bytes) {
  const std::string_view payload = std::string_view(bytes).substr(kHeaderBytes);
  const uint64_t length = payload.size();
  const uint32_t crc = Crc32c(payload);
  for (int i = 0; i < 8; ++i)
    bytes[12 + static_cast<size_t>(i)] = static_cast<char>(length >> (8 * i));
  for (int i = 0; i < 4; ++i)
    bytes[20 + static_cast<size_t>(i)] = static_cast<char>(crc >> (8 * i));
}

TEST(SnapshotCodecTest, RoundTripIsIdentical) {
  const std::string bytes = EncodeSnapshot(SmallSnapshot());
  DecodeResult r = DecodeSnapshot(bytes);
  ASSERT_TRUE(r.snapshot) << r.message;
  const Snapshot& s = *r.snapshot;
  EXPECT_EQ(s.wall_time, 1.8e9 + 0.25);
  ASSERT_EQ(s.models.size(), 1u);
  const ModelSnapshot& m = s.models[0];
  EXPECT_EQ(m.name, "fraud");
  EXPECT_EQ(m.fingerprint, 0x0123456789abcdefull);
  EXPECT_EQ(m.reference_source, "upload");
  ASSERT_TRUE(m.reference);
  EXPECT_EQ(m.reference->categories[1][1].first, "é\"y");
  EXPECT_TRUE(std::isnan(m.window_columns[0].numbers[1]));
  EXPECT_EQ(m.window_columns[1].ids[1], WindowColumnSnapshot::kMissingCategory);
  EXPECT_EQ(m.pending_predictions[0].prediction.score, 0.75);
  EXPECT_EQ(m.baseline.at("accuracy"), 0.9);
  ASSERT_EQ(s.alerts.size(), 1u);
  EXPECT_EQ(s.alerts[0].fired_age_ns, 50);
  ASSERT_EQ(s.counters.size(), 1u);
  EXPECT_EQ(s.counters[0].value, 12);
  // Everything survives: encoding the decoded snapshot gives the same bytes.
  EXPECT_EQ(EncodeSnapshot(s), bytes);
}

TEST(SnapshotCodecTest, EveryTruncationFailsCleanly) {
  const std::string bytes = EncodeSnapshot(SmallSnapshot());
  for (size_t n = 0; n < bytes.size(); ++n) {
    DecodeResult r = DecodeSnapshot(std::string_view(bytes).substr(0, n));
    ASSERT_FALSE(r.snapshot) << "prefix " << n;
    EXPECT_EQ(r.error, DecodeError::kTruncated) << "prefix " << n;
  }
}

TEST(SnapshotCodecTest, FlippedPayloadByteFailsTheChecksum) {
  const std::string bytes = EncodeSnapshot(SmallSnapshot());
  for (size_t i = kHeaderBytes; i < bytes.size(); ++i) {
    std::string bad = bytes;
    bad[i] = static_cast<char>(bad[i] ^ 0x10);
    DecodeResult r = DecodeSnapshot(bad);
    ASSERT_FALSE(r.snapshot);
    EXPECT_EQ(r.error, DecodeError::kChecksum) << "byte " << i;
  }
  // In the header: the magic, the version, the length or the checksum itself.
  for (size_t i = 0; i < kHeaderBytes; ++i) {
    std::string bad = bytes;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    EXPECT_FALSE(DecodeSnapshot(bad).snapshot) << "byte " << i;
  }
}

TEST(SnapshotCodecTest, WrongMagicAndFutureVersion) {
  std::string bytes = EncodeSnapshot(SmallSnapshot());
  std::string bad = bytes;
  bad[0] = 'X';
  EXPECT_EQ(DecodeSnapshot(bad).error, DecodeError::kMagic);
  EXPECT_EQ(DecodeSnapshot("not a snapshot at all, just some text").error, DecodeError::kMagic);
  bad = bytes;
  bad[8] = static_cast<char>(kSnapshotFormatVersion + 1);
  DecodeResult r = DecodeSnapshot(bad);
  EXPECT_EQ(r.error, DecodeError::kVersion);
  EXPECT_NE(r.message.find("format version 2"), std::string::npos) << r.message;
}

TEST(SnapshotCodecTest, UnknownSectionsAreSkipped) {
  std::string bytes = EncodeSnapshot(SmallSnapshot());
  // Section tag 99 with a 3-byte body, appended to the payload.
  bytes += std::string("\x63\0\0\0\x03\0\0\0\0\0\0\0abc", 15);
  Rewrite(bytes);
  DecodeResult r = DecodeSnapshot(bytes);
  ASSERT_TRUE(r.snapshot) << r.message;
  EXPECT_EQ(r.snapshot->models.size(), 1u);
}

TEST(SnapshotCodecTest, HugeCountsAreRefusedBeforeAllocating) {
  Snapshot s;
  s.wall_time = 1;
  std::string bytes = EncodeSnapshot(s);
  // A counters section claiming 2^32 - 1 series in 4 bytes.
  bytes += std::string("\x04\0\0\0\x04\0\0\0\0\0\0\0\xff\xff\xff\xff", 16);
  Rewrite(bytes);
  DecodeResult r = DecodeSnapshot(bytes);
  EXPECT_FALSE(r.snapshot);
  EXPECT_EQ(r.error, DecodeError::kCorrupt);
}

// Payload mutations with a valid checksum: whatever the structure says, decoding never crashes, and
// either fails as "corrupt" or "invalid" or yields a snapshot.
TEST(SnapshotCodecTest, MutatedPayloadsWithValidChecksumNeverCrash) {
  const std::string bytes = EncodeSnapshot(SmallSnapshot());
  std::mt19937_64 rng(7);
  size_t failures = 0;
  for (int iteration = 0; iteration < 3000; ++iteration) {
    std::string bad = bytes;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t at = kHeaderBytes + rng() % (bad.size() - kHeaderBytes);
      bad[at] = static_cast<char>(rng() % 4 == 0 ? 0xff : rng());
    }
    Rewrite(bad);
    DecodeResult r = DecodeSnapshot(bad);
    if (!r.snapshot) {
      ++failures;
      EXPECT_TRUE(r.error == DecodeError::kCorrupt || r.error == DecodeError::kInvalid)
          << DecodeErrorName(r.error);
    }
  }
  EXPECT_GT(failures, 100u);
}

TEST(SnapshotFileTest, AtomicWriteReplacesAndReports) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("modelmon_snap_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "state.snap").string();
  std::string error;
  ASSERT_TRUE(WriteFileAtomically(path, "first", &error)) << error;
  ASSERT_TRUE(WriteFileAtomically(path, "second", &error)) << error;
  std::string read;
  ASSERT_EQ(ReadSnapshotFile(path, 1 << 20, &read, &error), SnapshotReadStatus::kOk) << error;
  EXPECT_EQ(read, "second");
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  EXPECT_EQ(ReadSnapshotFile(path, 3, &read, &error), SnapshotReadStatus::kTooLarge);
  EXPECT_EQ(ReadSnapshotFile((dir / "absent").string(), 1 << 20, &read, &error),
            SnapshotReadStatus::kMissing);
  // A directory that does not exist: an error, no exception.
  EXPECT_FALSE(WriteFileAtomically((dir / "no" / "such" / "dir").string(), "x", &error));
  EXPECT_NE(error.find("cannot create"), std::string::npos) << error;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace modelmon::state
