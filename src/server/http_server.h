#ifndef MODELMON_SERVER_HTTP_SERVER_H_
#define MODELMON_SERVER_HTTP_SERVER_H_

// Boost.Beast/Asio are used in this module only.
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
#include "server/service.h"

namespace modelmon::server {

class Session;

// HTTP/1.1 server: accepts connections and runs one Session per connection on its own strand, with
// keep-alive, body/header limits, an idle timeout before a request's first byte and a whole-request
// read deadline after it. Thread-safe: Start() once, then Shutdown() from any thread.
class HttpServer {
 public:
  // service must outlive the server; the io_context too.
  HttpServer(boost::asio::io_context& ioc, const ServerConfig& config, Service& service);
  ~HttpServer();

  // Binds and listens. False with *error set when the address cannot be bound.
  bool Listen(std::string* error);
  uint16_t port() const { return port_; }
  void Start();

  // Stops accepting, closes idle connections and makes busy ones close after their response.
  void Shutdown();
  // After Shutdown(): closes every remaining connection (the drain deadline passed). Once their
  // handlers have run, the io_context has no work left from this server.
  void CloseAll();
  size_t active_connections() const { return active_.load(); }

 private:
  friend class Session;
  void DoAccept();
  void Register(const std::shared_ptr<Session>& session);
  void Unregister();
  std::vector<std::shared_ptr<Session>> LiveSessions();

  boost::asio::io_context& ioc_;
  const ServerConfig config_;
  Service& service_;
  boost::asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<size_t> active_{0};
  std::mutex mu_;
  std::vector<std::weak_ptr<Session>> sessions_ GUARDED_BY(mu_);
};

}  // namespace modelmon::server

#endif  // MODELMON_SERVER_HTTP_SERVER_H_
