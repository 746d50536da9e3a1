#ifndef MODELMON_SERVER_HTTP_SERVER_H_
#define MODELMON_SERVER_HTTP_SERVER_H_

// Boost.Beast/Asio and OpenSSL are used in this module only.
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <mutex>
#include <string>
#include <utility>  // Must precede Asio's awaitable.hpp under GCC 12 in C++20.
#include <vector>

#include "common/thread_annotations.h"
#include "modelmon/config.h"
#include "server/server_metrics.h"
#include "server/service.h"

namespace boost::asio::ssl {
class context;
}  // namespace boost::asio::ssl

namespace modelmon::server {

class SessionBase;
template <class Stream>
class Session;

// HTTP/1.1 server, plain or TLS (server.tls), one Session per connection on its own strand. A
// connection handles one request at a time: it reads the next request only after the response to
// the previous one is written, and reads ahead at most max(64 KiB, max_header_bytes + 4 KiB).
// Limits: a head deadline (server.header_timeout: a new connection's TLS handshake and first
// request head, a keep-alive request's head from its first byte), an idle timeout between
// keep-alive requests, one read deadline for the whole request, body/header limits, a connection
// cap at which the connection idle longest is closed to admit a new one (so probes and scrapes get
// through a flood of silent connections), and an admission budget shared by all connections
// (server.max_inflight_requests / max_inflight_bytes) for requests with a body or to ingest/admin
// endpoints. Request framing is exactly RFC 9112's (request_framing.h): anything else is refused
// and the connection closed. Every refusal answers a JSON error and is counted in
// Service::server_metrics().
//
// Lifecycle: Listen(), Start(); on shutdown Drain() (keep serving reads, refuse new ingest/admin
// with 503), then Shutdown() once inflight_requests() is 0 or the drain deadline passed, then
// CloseAll() if connections remain. Thread-safe: every method may be called from any thread.
class HttpServer {
 public:
  // service must outlive the server; the io_context too.
  HttpServer(boost::asio::io_context& ioc, const ServerConfig& config, Service& service);
  ~HttpServer();

  // The listener's configuration, loaded and resolved, with no socket opened.
  struct ListenPlan {
    ListenPlan();
    ~ListenPlan();
    ListenPlan(ListenPlan&&) noexcept;
    ListenPlan& operator=(ListenPlan&&) noexcept;

    boost::asio::ip::tcp::endpoint endpoint;
    std::unique_ptr<boost::asio::ssl::context> tls;  // Null for plain HTTP.
  };
  // Everything Listen() needs that the configuration decides, checked without binding or writing
  // anything: loads the TLS certificate and key when configured (LoadTlsContext) and resolves
  // server.listen. An IP address is used as it is; a host name is resolved now (its first IPv4
  // address, else its first address). False with *error set otherwise, a configuration error
  // starting with "server.tls." or "server.listen:". Thread-safe.
  static bool PrepareListen(const ServerConfig& config, ListenPlan* plan, std::string* error);
  // Binds and listens on plan.endpoint (from PrepareListen), serving TLS with plan.tls when set.
  // False with *error set when the socket cannot be bound (the port is in use, permission), a
  // runtime error.
  bool Listen(ListenPlan plan, std::string* error);
  uint16_t port() const { return port_; }
  bool tls() const { return tls_ != nullptr; }
  void Start();

  // Begins a drain: keeps accepting; new ingest and admin requests get 503 with Retry-After and
  // Connection: close; others are served with Connection: close; idle keep-alive connections are
  // closed. Requests already admitted finish.
  void Drain();
  // Stops accepting and closes every connection, except that one writing a response closes after
  // it.
  void Shutdown();
  // After Shutdown(): closes every remaining connection (the drain deadline passed). Once their
  // handlers have run, the io_context has no work left from this server.
  void CloseAll();
  size_t active_connections() const { return active_.load(); }
  // Admitted requests whose response is not yet written.
  size_t inflight_requests() const;

 private:
  template <class Stream>
  friend class Session;
  enum class Admission { kAdmitted, kRequests, kBytes };

  void DoAccept();
  void Register(const std::shared_ptr<SessionBase>& session);
  void Unregister();
  // At the connection cap: claims and closes the live connection evictable longest (see
  // SessionBase). False when none is evictable.
  bool EvictIdlest();
  std::vector<std::shared_ptr<SessionBase>> LiveSessions();
  // Admission budget. Admit() reserves one request and `bytes`; Grow() reserves more bytes for an
  // admitted request (chunked bodies), false when that would exceed the budget (nothing reserved).
  Admission Admit(size_t bytes);
  bool Grow(size_t bytes);
  void ReleaseBytes(size_t bytes);
  void ReleaseRequest();
  void PublishInflight() EXCLUSIVE_LOCKS_REQUIRED(admission_mu_);

  boost::asio::io_context& ioc_;
  const ServerConfig config_;
  Service& service_;
  ServerMetrics& metrics_;  // service_.server_metrics().
  boost::asio::ip::tcp::acceptor acceptor_;
  std::unique_ptr<boost::asio::ssl::context> tls_;  // Null for plain HTTP.
  uint16_t port_ = 0;
  std::atomic<bool> draining_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<size_t> active_{0};
  std::mutex mu_;
  std::vector<std::weak_ptr<SessionBase>> sessions_ GUARDED_BY(mu_);
  mutable std::mutex admission_mu_;
  size_t inflight_requests_ GUARDED_BY(admission_mu_) = 0;
  size_t inflight_bytes_ GUARDED_BY(admission_mu_) = 0;
};

}  // namespace modelmon::server

#endif  // MODELMON_SERVER_HTTP_SERVER_H_
