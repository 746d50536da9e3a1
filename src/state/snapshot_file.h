#ifndef MODELMON_STATE_SNAPSHOT_FILE_H_
#define MODELMON_STATE_SNAPSHOT_FILE_H_

#include <cstddef>
#include <string>
#include <string_view>

// The snapshot file on disk: an atomic replace and a bounded read. Stateless; thread-safe for
// distinct paths (concurrent writers of one path race on its ".tmp" file).

namespace modelmon::state {

// Writes bytes to path + ".tmp" in the same directory, fsyncs it, renames it over path and fsyncs
// the directory, so that path always holds either the previous or the new complete file. False
// with *error set on any failure (the temporary file is removed); a path that exists and is not a
// regular file (a device, a FIFO) is never replaced.
bool WriteFileAtomically(const std::string& path, std::string_view bytes, std::string* error);

// What ReadSnapshotFile() found.
enum class SnapshotReadStatus {
  kOk,
  kMissing,     // Nothing at the path: a clean start.
  kNotRegular,  // A FIFO, device, socket or directory: refused without reading a byte.
  kTooLarge,    // Over max_bytes: refused after reading at most max_bytes + 1 bytes.
  kFailed,      // Could not be opened (other than missing) or read.
};

// Reads the whole snapshot file through ReadBoundedFile() (common/bounded_file.h): a regular file
// of at most max_bytes, never blocking on a FIFO and never reading a device. Anything but kOk sets
// *error, starting with the path. Never throws.
SnapshotReadStatus ReadSnapshotFile(const std::string& path, size_t max_bytes, std::string* bytes,
                                    std::string* error);

}  // namespace modelmon::state

#endif  // MODELMON_STATE_SNAPSHOT_FILE_H_
