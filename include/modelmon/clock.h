#ifndef MODELMON_CLOCK_H_
#define MODELMON_CLOCK_H_

#include <chrono>
#include <cstdint>

namespace modelmon {

// Source of time for everything that expires or schedules: windows, joins, alerts, snapshots.
// Injected so that tests can drive time explicitly. Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic time, for durations and expiry.
  virtual std::chrono::steady_clock::time_point Now() const = 0;
  // Wall-clock time in seconds since the Unix epoch, for timestamps shown to users.
  virtual double UnixSeconds() const = 0;

  // The process-wide real clock. Never null; lives for the whole program.
  static Clock* Real();
};

}  // namespace modelmon

#endif  // MODELMON_CLOCK_H_
