#ifndef MODELMON_STATE_SNAPSHOT_FILE_H_
#define MODELMON_STATE_SNAPSHOT_FILE_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

// The snapshot file on disk: an atomic replace and a bounded read. Stateless; thread-safe for
// distinct paths (concurrent writers of one path race on its ".tmp" file).

namespace modelmon::state {

// Writes bytes to path + ".tmp" in the same directory, fsyncs it, renames it over path and fsyncs
// the directory, so that path always holds either the previous or the new complete file. False
// with *error set on any failure (the temporary file is removed).
bool WriteFileAtomically(const std::string& path, std::string_view bytes, std::string* error);

// Reads a whole file of at most max_bytes. nullopt with *error set when it cannot be read; *missing
// is set when it does not exist.
std::optional<std::string> ReadSnapshotFile(const std::string& path, size_t max_bytes,
                                            bool* missing, std::string* error);

}  // namespace modelmon::state

#endif  // MODELMON_STATE_SNAPSHOT_FILE_H_
