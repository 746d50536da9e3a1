#ifndef MODELMON_INGEST_REJECT_REASON_H_
#define MODELMON_INGEST_REJECT_REASON_H_

#include <cstddef>
#include <cstdint>
#include <iterator>

// The vocabulary of rejections: every `reason` label value of modelmon_events_rejected_total.
// Header-only constexpr data. Thread-safe (immutable).

namespace modelmon::ingest {

// Why one event was rejected; the rest of its request may still be accepted.
enum class RejectReason : uint8_t {
  kInvalidJson,
  kNotAnObject,
  kMissingField,
  kWrongType,
  kUnknownModel,
  kUnknownClass,
  kInvalidValue,
  kCount,
};

// Indexed by RejectReason.
inline constexpr const char* kRejectReasonNames[] = {
    "invalid_json",  "not_an_object", "missing_field", "wrong_type",
    "unknown_model", "unknown_class", "invalid_value",
};
static_assert(std::size(kRejectReasonNames) == static_cast<size_t>(RejectReason::kCount));

// The label value of `reason`; "unknown" for kCount or any value outside the enum.
constexpr const char* RejectReasonName(RejectReason reason) {
  return reason < RejectReason::kCount ? kRejectReasonNames[static_cast<size_t>(reason)]
                                       : "unknown";
}

// Reasons for rejecting a whole request body, counted once per request: a Content-Type that is
// neither JSON nor NDJSON (415), more events than server.max_batch_events (413), and a body that is
// empty or not JSON / NDJSON at all (400).
inline constexpr const char* kUnsupportedMediaType = "unsupported_media_type";
inline constexpr const char* kTooManyEvents = "too_many_events";
inline constexpr const char* kInvalidBody = "invalid_body";
inline constexpr const char* kBodyRejectReasons[] = {kUnsupportedMediaType, kTooManyEvents,
                                                     kInvalidBody};

}  // namespace modelmon::ingest

#endif  // MODELMON_INGEST_REJECT_REASON_H_
