#ifndef MODELMON_STATE_SNAPSHOT_VALIDATION_H_
#define MODELMON_STATE_SNAPSHOT_VALIDATION_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "ingest/schema.h"
#include "state/snapshot.h"

// Content checks of a decoded snapshot. A snapshot's checksum only proves that the bytes are the
// ones written; its values are treated like input from the network, and every value that a restore
// hands to the window, the join store, the alert engine or a metric label passes one of these
// checks first. A snapshot that fails is refused as a whole (see SnapshotStore::Restore).
// Stateless functions; thread-safe.

namespace modelmon::state {

// Length caps, equal to the ingest parser's (ids, model_version, category values) and the
// configuration's (names). A version may be empty: events without model_version have that one.
inline constexpr size_t kMaxSnapshotIdBytes = 256;
inline constexpr size_t kMaxSnapshotVersionBytes = 128;
inline constexpr size_t kMaxSnapshotCategoryBytes = 1024;
inline constexpr size_t kMaxSnapshotNameBytes = 128;
// Reference keys carry a configured file path; alert and counter label values are names, versions
// or categories.
inline constexpr size_t kMaxSnapshotPathBytes = 4096;
inline constexpr size_t kMaxSnapshotLabelBytes = 1024;

// True when `text` is well-formed UTF-8 (no overlong forms, surrogates or code points past
// U+10FFFF).
bool IsValidUtf8(std::string_view text);
// A configuration name: 1 to 128 characters from [A-Za-z0-9_.:-] (models, features, rules).
bool IsValidSnapshotName(std::string_view name);
// A Prometheus label name that prometheus-cpp accepts: [a-zA-Z_][a-zA-Z0-9_]*, not starting "__".
bool IsValidLabelName(std::string_view name);

// Checks everything that does not depend on the configuration: names, UTF-8 and lengths of every
// string, that lists which must be distinct are (models, ids, dictionaries, versions, counters),
// counts that must agree with each other (sample totals against rows, window columns against
// window length, alert states against their times), finite numbers where a number is required,
// and the vocabularies of reference sources and learned baselines. False with *error saying
// which value, for the log.
bool ValidateSnapshot(const Snapshot& snapshot, std::string* error);

// Checks one model's snapshot against the schema it is about to be restored into (its fingerprint
// matched): column count and types, window and join sizes within the configured capacities, class
// indices and score vectors that fit the classes, versions within max_versions. False with
// *error set.
bool ValidateModelSnapshot(const ModelSnapshot& model, const ingest::ModelSchema& schema,
                           std::string* error);

}  // namespace modelmon::state

#endif  // MODELMON_STATE_SNAPSHOT_VALIDATION_H_
