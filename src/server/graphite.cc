// clang-format off
#include <utility>  // Must precede Asio's awaitable.hpp under GCC 12 in C++20.
// clang-format on

#include "server/graphite.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <chrono>
#include <cmath>
#include <optional>
#include <string>

namespace modelmon::server {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;

struct GraphitePusher::Impl : std::enable_shared_from_this<Impl> {
  Impl(net::io_context& ioc, const GraphiteConfig& c, metrics::Registry& r, const Clock* cl)
      : strand(net::make_strand(ioc)),
        timer(strand),
        resolver(strand),
        config(c),
        registry(r),
        clock(cl) {
    auto family = registry.AddCounter("modelmon_graphite_pushes_total",
                                      "Pushes of all metrics to Graphite, by outcome.");
    ok = family.With({{"outcome", "success"}});
    failed = family.With({{"outcome", "failure"}});
  }

  void Schedule() {
    if (stopped) return;
    timer.expires_after(config.interval);
    timer.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec && !self->stopped) self->Push();
    });
  }

  void Fail() {
    failed.Inc();
    stream.reset();
    Schedule();
  }

  void Push() {
    payload = registry.SerializeGraphite(config.prefix,
                                         static_cast<int64_t>(std::floor(clock->UnixSeconds())));
    const auto deadline =
        std::min<std::chrono::steady_clock::duration>(config.interval, std::chrono::seconds(5));
    resolver.async_resolve(
        config.host, std::to_string(config.port),
        [self = shared_from_this(), deadline](beast::error_code ec,
                                              tcp::resolver::results_type results) {
          if (ec || self->stopped) return self->Fail();
          self->stream.emplace(self->strand);
          self->stream->expires_after(deadline);
          self->stream->async_connect(results, [self](beast::error_code ec2, const tcp::endpoint&) {
            if (ec2 || self->stopped) return self->Fail();
            net::async_write(*self->stream, net::buffer(self->payload),
                             [self](beast::error_code ec3, std::size_t) {
                               if (ec3) return self->Fail();
                               beast::error_code ignored;
                               self->stream->socket().shutdown(tcp::socket::shutdown_send, ignored);
                               self->stream.reset();
                               self->ok.Inc();
                               self->Schedule();
                             });
          });
        });
  }

  net::strand<net::io_context::executor_type> strand;
  net::steady_timer timer;
  tcp::resolver resolver;
  std::optional<beast::tcp_stream> stream;
  const GraphiteConfig config;
  metrics::Registry& registry;
  const Clock* clock;
  metrics::Counter ok, failed;
  std::string payload;
  bool stopped = false;  // Only touched on the strand.
};

GraphitePusher::GraphitePusher(net::io_context& ioc, const GraphiteConfig& config,
                               metrics::Registry& registry, const Clock* clock)
    : impl_(std::make_shared<Impl>(ioc, config, registry, clock)) {}

GraphitePusher::~GraphitePusher() = default;

void GraphitePusher::Start() {
  net::dispatch(impl_->strand, [impl = impl_] { impl->Schedule(); });
}

void GraphitePusher::Stop() {
  net::dispatch(impl_->strand, [impl = impl_] {
    impl->stopped = true;
    impl->timer.cancel();
    impl->resolver.cancel();
    if (impl->stream) impl->stream->cancel();
  });
}

}  // namespace modelmon::server
