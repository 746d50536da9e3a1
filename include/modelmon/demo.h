#ifndef MODELMON_DEMO_H_
#define MODELMON_DEMO_H_

#include <cstdint>
#include <string>

namespace modelmon {

// Synthetic traffic for the default config's model "credit_risk": prediction events with realistic
// features, ground truth for most of them a little later, and a distribution shift of `amount` and
// `country` (plus an unseen country) after drift_after_seconds.
struct DemoOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  double events_per_second = 200;
  double drift_after_seconds = 60;
  double duration_seconds = 0;  // 0 runs until killed.
  uint64_t seed = 42;
  int batch_size = 20;
};

// Sends traffic until the duration ends. Returns 0, or 1 after logging why it could not reach the
// daemon for 30 s. Not thread-safe; meant for the `modelmon demo` command.
int RunDemoTraffic(const DemoOptions& options);

}  // namespace modelmon

#endif  // MODELMON_DEMO_H_
