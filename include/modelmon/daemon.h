#ifndef MODELMON_DAEMON_H_
#define MODELMON_DAEMON_H_

#include <cstdint>
#include <memory>
#include <string>

#include "modelmon/clock.h"
#include "modelmon/config.h"

namespace modelmon {

// Why the daemon cannot start, as Daemon::Create and Daemon::Check report it.
struct StartError {
  enum class Kind {
    // The configuration cannot be served: a reference file or a TLS certificate or key that
    // cannot be read or parsed, a server.listen host that does not resolve. `modelmon` exits 2.
    kConfig,
    // The configuration is valid but the system refused: the address cannot be bound (in use,
    // permission). `modelmon` exits 1.
    kRuntime,
  };
  Kind kind = Kind::kRuntime;
  std::string message;  // Starts with the key path for kConfig ("models[0].reference.file: ...").
};

// The monitoring daemon: HTTP ingestion and API, periodic drift evaluation, /metrics. Create()
// binds the listening socket; Run() serves until Shutdown() or, with signals handled, SIGTERM /
// SIGINT, then drains (readiness false, reads still served, new ingest/admin refused with 503)
// until no ingest/admin request is in flight or server.shutdown_timeout passed, runs a last
// evaluation and returns.
// Thread-safe: Shutdown() and port() may be called from any thread while Run() blocks in another.
class Daemon {
 public:
  // Runs Check()'s steps, restores the state snapshot, then binds the listening socket. Null with
  // *error set when the config cannot be served (kConfig: exactly what Check() reports) or the
  // address cannot be bound (kRuntime). clock must outlive the daemon.
  static std::unique_ptr<Daemon> Create(const Config& config, StartError* error,
                                        const Clock* clock = Clock::Real());
  // Everything Create() does except binding the socket and the snapshot, through the same code:
  // reference files read and parsed, the TLS certificate and key loaded, server.listen resolved.
  // No side effect: nothing is bound, started or written, and the snapshot is not read. True when
  // Create() would get past these steps; otherwise false with *error set (always kConfig).
  // Thread-safe.
  static bool Check(const Config& config, StartError* error);
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
