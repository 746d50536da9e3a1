#ifndef MODELMON_TESTS_COMMON_FAKE_CLOCK_H_
#define MODELMON_TESTS_COMMON_FAKE_CLOCK_H_

#include <atomic>
#include <chrono>

#include "modelmon/clock.h"

namespace modelmon::testing {

// A clock that moves only when told to. Thread-safe.
class FakeClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point Now() const override {
    return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(nanos_.load()));
  }
  double UnixSeconds() const override { return 1.8e9 + static_cast<double>(nanos_.load()) / 1e9; }
  void Advance(std::chrono::nanoseconds d) { nanos_ += d.count(); }

 private:
  std::atomic<int64_t> nanos_{1'000'000'000};
};

}  // namespace modelmon::testing

#endif  // MODELMON_TESTS_COMMON_FAKE_CLOCK_H_
