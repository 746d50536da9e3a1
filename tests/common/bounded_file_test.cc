#include "common/bounded_file.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace modelmon {
namespace {

class BoundedFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("bounded_file_test." + std::to_string(::getpid()) + "." +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& bytes) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }

  std::filesystem::path dir_;
};

TEST_F(BoundedFileTest, ReadsARegularFileWhole) {
  const std::string bytes("a\0b\nline two\n", 13);
  const std::string path = Write("f", bytes);
  std::string contents, error;
  EXPECT_EQ(ReadBoundedFile(path, 13, &contents, &error), FileReadStatus::kOk) << error;
  EXPECT_EQ(contents, bytes);
}

TEST_F(BoundedFileTest, ReadsAnEmptyFile) {
  std::string contents = "stale", error;
  EXPECT_EQ(ReadBoundedFile(Write("empty", ""), 0, &contents, &error), FileReadStatus::kOk);
  EXPECT_EQ(contents, "");
}

TEST_F(BoundedFileTest, RefusesAFileOverTheLimit) {
  const std::string path = Write("big", std::string(100, 'x'));
  std::string contents, error;
  EXPECT_EQ(ReadBoundedFile(path, 99, &contents, &error), FileReadStatus::kTooLarge);
  EXPECT_EQ(error, path + ": file larger than the limit of 99 bytes");
}

TEST_F(BoundedFileTest, RefusesAMissingFileWithItsPath) {
  const std::string path = (dir_ / "missing").string();
  std::string contents, error;
  EXPECT_EQ(ReadBoundedFile(path, 10, &contents, &error), FileReadStatus::kCannotOpen);
  EXPECT_EQ(error.rfind(path + ": cannot open file: ", 0), 0u) << error;
}

TEST_F(BoundedFileTest, RefusesADirectory) {
  std::string contents, error;
  EXPECT_EQ(ReadBoundedFile(dir_.string(), 10, &contents, &error), FileReadStatus::kNotRegular);
  EXPECT_EQ(error, dir_.string() + ": not a regular file (a directory)");
}

TEST_F(BoundedFileTest, RefusesAFifoWithoutBlocking) {
  const std::string path = (dir_ / "fifo").string();
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  std::string contents, error;
  // No writer: a blocking open would hang here.
  EXPECT_EQ(ReadBoundedFile(path, 10, &contents, &error), FileReadStatus::kNotRegular);
  EXPECT_EQ(error, path + ": not a regular file (a FIFO)");
}

TEST_F(BoundedFileTest, RefusesCharacterDevicesThatNeverEnd) {
  std::string contents, error;
  EXPECT_EQ(ReadBoundedFile("/dev/zero", 1 << 20, &contents, &error), FileReadStatus::kNotRegular);
  EXPECT_EQ(error, "/dev/zero: not a regular file (a character device)");
  EXPECT_EQ(ReadBoundedFile("/dev/null", 1 << 20, &contents, &error), FileReadStatus::kNotRegular);
}

TEST_F(BoundedFileTest, FollowsSymlinksToRegularFiles) {
  const std::string target = Write("target", "hello");
  const std::string link = (dir_ / "link").string();
  std::filesystem::create_symlink(target, link);
  std::string contents, error;
  EXPECT_EQ(ReadBoundedFile(link, 5, &contents, &error), FileReadStatus::kOk) << error;
  EXPECT_EQ(contents, "hello");
}

}  // namespace
}  // namespace modelmon
