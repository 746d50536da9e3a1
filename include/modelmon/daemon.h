#ifndef MODELMON_DAEMON_H_
#define MODELMON_DAEMON_H_

#include <cstdint>
#include <memory>
#include <string>

#include "modelmon/clock.h"
#include "modelmon/config.h"

namespace modelmon {

// The monitoring daemon: HTTP ingestion and API, periodic drift evaluation, /metrics. Create()
// binds the listening socket; Run() serves until Shutdown() or, with signals handled, SIGTERM /
// SIGINT, then drains (readiness false, reads still served, new ingest/admin refused with 503)
// until no ingest/admin request is in flight or server.shutdown_timeout passed, runs a last
// evaluation and returns.
// Thread-safe: Shutdown() and port() may be called from any thread while Run() blocks in another.
class Daemon {
 public:
  // Null with *error set when the config cannot be served (a reference file fails to load, the
  // address cannot be bound). clock must outlive the daemon.
  static std::unique_ptr<Daemon> Create(const Config& config, std::string* error,
                                        const Clock* clock = Clock::Real());
  virtual ~Daemon() = default;

  // The bound port (useful with port 0).
  virtual uint16_t port() const = 0;
  // Serves until shut down. handle_signals installs SIGTERM/SIGINT handlers for the duration.
  // Returns the process exit code: 0 after a graceful shutdown, 1 when the final state snapshot
  // could not be written (logged at error level).
  virtual int Run(bool handle_signals) = 0;
  virtual void Shutdown() = 0;
};

}  // namespace modelmon

#endif  // MODELMON_DAEMON_H_
