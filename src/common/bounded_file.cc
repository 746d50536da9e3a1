#include "common/bounded_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace modelmon {
namespace {

const char* KindOf(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  return "not a plain file";
}

FileReadStatus Fail(FileReadStatus status, const std::string& message, std::string* error) {
  if (error != nullptr) *error = message;
  return status;
}

// Closes the descriptor on every path out.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

FileReadStatus ReadBoundedFile(const std::string& path, size_t max_bytes, std::string* contents,
                               std::string* error) {
  // O_NONBLOCK: opening a FIFO with no writer would otherwise block until one appears.
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (fd.get() < 0) {
    return Fail(FileReadStatus::kCannotOpen, path + ": cannot open file: " + std::strerror(errno),
                error);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return Fail(FileReadStatus::kCannotOpen, path + ": cannot stat file: " + std::strerror(errno),
                error);
  }
  if (!S_ISREG(st.st_mode)) {
    return Fail(FileReadStatus::kNotRegular,
                path + ": not a regular file (" + KindOf(st.st_mode) + ")", error);
  }
  const std::string too_large =
      path + ": file larger than the limit of " + std::to_string(max_bytes) + " bytes";
  if (static_cast<unsigned long long>(st.st_size) > max_bytes) {
    return Fail(FileReadStatus::kTooLarge, too_large, error);
  }
  contents->clear();
  contents->reserve(static_cast<size_t>(st.st_size));
  // The size may change while reading: the bound is enforced on the bytes actually read.
  char buf[64 * 1024];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Fail(FileReadStatus::kReadFailed, path + ": read failed: " + std::strerror(errno),
                  error);
    }
    if (n == 0) break;
    if (static_cast<size_t>(n) > max_bytes - contents->size()) {
      return Fail(FileReadStatus::kTooLarge, too_large, error);
    }
    contents->append(buf, static_cast<size_t>(n));
  }
  return FileReadStatus::kOk;
}

}  // namespace modelmon
