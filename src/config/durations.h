#ifndef MODELMON_CONFIG_DURATIONS_H_
#define MODELMON_CONFIG_DURATIONS_H_

#include <chrono>
#include <optional>
#include <string_view>

namespace modelmon {

// Parses Prometheus-style durations: an unsigned integer or decimal number followed by one of
// ms, s, m, h, d (e.g. "500ms", "1.5s", "24h"). A number needs its unit ("10" is refused, as it
// would be ambiguous); "0" alone is zero, as in Prometheus. Returns nullopt on any other input or
// on overflow. Thread-safe (pure).
std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text);

// Whether `text` is a bare number ("10", "1.5"; not "0"): the error messages of duration keys
// then say which unit to add. Thread-safe (pure).
bool IsBareNumberDuration(std::string_view text);

}  // namespace modelmon

#endif  // MODELMON_CONFIG_DURATIONS_H_
