#ifndef MODELMON_COMMON_BOUNDED_FILE_H_
#define MODELMON_COMMON_BOUNDED_FILE_H_

#include <cstddef>
#include <string>

namespace modelmon {

// The outcome of ReadBoundedFile.
enum class FileReadStatus {
  kOk,
  kCannotOpen,  // open(2) failed (missing, permission denied, ...).
  kNotRegular,  // A directory, FIFO, socket or device: refused without reading a byte.
  kTooLarge,    // More than max_bytes: refused after reading at most max_bytes + 1 bytes.
  kReadFailed,  // read(2) failed part-way.
};

// Reads the whole of the regular file at `path` into *contents, refusing anything that is not a
// regular file (checked with fstat on the opened descriptor, so a FIFO never blocks the caller:
// it is opened non-blocking) and any file over max_bytes. On failure *contents is unspecified and
// *error (when not null) says why, starting with the path: "PATH: not a regular file (a FIFO)".
// Never throws. Thread-safe.
FileReadStatus ReadBoundedFile(const std::string& path, size_t max_bytes, std::string* contents,
                               std::string* error);

}  // namespace modelmon

#endif  // MODELMON_COMMON_BOUNDED_FILE_H_
