#include "state/snapshot_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/bounded_file.h"

namespace modelmon::state {
namespace {

std::string ErrnoText(const char* what, const std::string& path) {
  std::string s = what;
  s += ' ';
  s += path;
  s += ": ";
  s += std::strerror(errno);
  return s;
}

}  // namespace

bool WriteFileAtomically(const std::string& path, std::string_view bytes, std::string* error) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    *error = "not a regular file: ";
    error->append(path);
    return false;
  }
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    *error = ErrnoText("cannot create", tmp);
    return false;
  }
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *error = ErrnoText("cannot write", tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      return false;
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    *error = ErrnoText("cannot fsync", tmp);
    ::close(fd);
    ::unlink(tmp.c_str());
    return false;
  }
  if (::close(fd) != 0) {
    *error = ErrnoText("cannot close", tmp);
    ::unlink(tmp.c_str());
    return false;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    *error = ErrnoText("cannot rename onto", path);
    ::unlink(tmp.c_str());
    return false;
  }
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  const std::string dir = parent.empty() ? std::string(".") : parent.string();
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0 || ::fsync(dfd) != 0) {
    *error = ErrnoText("cannot fsync directory", dir);
    if (dfd >= 0) ::close(dfd);
    return false;
  }
  ::close(dfd);
  return true;
}

SnapshotReadStatus ReadSnapshotFile(const std::string& path, size_t max_bytes, std::string* bytes,
                                    std::string* error) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 && errno == ENOENT) {
    *error = ErrnoText("cannot open", path);
    return SnapshotReadStatus::kMissing;
  }
  switch (ReadBoundedFile(path, max_bytes, bytes, error)) {
    case FileReadStatus::kOk:
      return SnapshotReadStatus::kOk;
    case FileReadStatus::kNotRegular:
      return SnapshotReadStatus::kNotRegular;
    case FileReadStatus::kTooLarge:
      return SnapshotReadStatus::kTooLarge;
    case FileReadStatus::kCannotOpen:
    case FileReadStatus::kReadFailed:
      break;
  }
  return SnapshotReadStatus::kFailed;
}

}  // namespace modelmon::state
