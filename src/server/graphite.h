#ifndef MODELMON_SERVER_GRAPHITE_H_
#define MODELMON_SERVER_GRAPHITE_H_

// clang-format off
#include <utility>  // Must precede Asio's awaitable.hpp under GCC 12 in C++20.
// clang-format on

#include <boost/asio/io_context.hpp>
#include <memory>

#include "metrics/metrics.h"
#include "modelmon/clock.h"
#include "modelmon/config.h"

namespace modelmon::server {

// Pushes every gauge and counter to a Graphite carbon listener (plaintext protocol with tags) every
// interval, on the daemon's io_context: one short TCP connection per push, bounded by a deadline of
// the interval (at most 5 s), so a slow or absent Graphite never blocks anything. Outcomes are
// counted in modelmon_graphite_pushes_total{outcome}. Thread-safe: Start() once, Stop() from any
// thread; all work runs on an internal strand.
class GraphitePusher {
 public:
  // Everything passed must outlive the pusher.
  GraphitePusher(boost::asio::io_context& ioc, const GraphiteConfig& config,
                 metrics::Registry& registry, const Clock* clock);
  ~GraphitePusher();
  void Start();
  void Stop();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace modelmon::server

#endif  // MODELMON_SERVER_GRAPHITE_H_
