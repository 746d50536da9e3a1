// clang-format off
#include <utility>  // Must precede Asio's awaitable.hpp under GCC 12 in C++20.
// clang-format on

#include "server/http_server.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/version.hpp>
#include <optional>

namespace modelmon::server {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// One connection. Every handler runs on the connection's strand, so members need no lock.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, HttpServer& server)
      : stream_(std::move(socket)), server_(server), config_(server.config_) {}

  ~Session() { server_.Unregister(); }

  void Start() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&Session::WaitForRequest, shared_from_this()));
  }

  // Closes the connection now, whatever it is doing. Any thread.
  void ForceClose() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      self->stopping_ = true;
      self->Close();
    });
  }

  // Called on shutdown from any thread.
  void NotifyShutdown() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      self->stopping_ = true;
      if (self->idle_) {
        beast::error_code ec;
        self->stream_.socket().cancel(ec);
      }
    });
  }

 private:
  // Waits for the first byte of the next request under the idle timeout.
  void WaitForRequest() {
    if (stopping_) return Close();
    if (buffer_.size() > 0) return ReadRequest();  // Pipelined bytes already here.
    idle_ = true;
    stream_.expires_after(config_.idle_timeout);
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->idle_ = false;
                              if (ec) return self->Close();
                              self->buffer_.commit(n);
                              self->ReadRequest();
                            });
  }

  void ReadRequest() {
    parser_.emplace();
    parser_->body_limit(config_.max_body_bytes);
    parser_->header_limit(static_cast<std::uint32_t>(config_.max_header_bytes));
    stream_.expires_after(config_.request_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  void OnRead(beast::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream || ec == net::error::connection_reset) return Close();
    if (ec == beast::error::timeout) {
      server_.service_.CountLimitHit("request_timeout");
      return SendError(408, "request not received in time");
    }
    if (ec == http::error::body_limit) {
      server_.service_.CountLimitHit("body_bytes");
      return SendError(
          413, "request body larger than " + std::to_string(config_.max_body_bytes) + " bytes");
    }
    if (ec == http::error::header_limit) {
      server_.service_.CountLimitHit("header_bytes");
      return SendError(431, "request headers larger than " +
                                std::to_string(config_.max_header_bytes) + " bytes");
    }
    if (ec) {
      server_.service_.CountLimitHit("malformed_request");
      return SendError(400, std::string("malformed HTTP request: ") + ec.message());
    }
    const auto& req = parser_->get();
    HttpRequest request;
    const auto method = req.method_string();
    request.method = std::string_view(method.data(), method.size());
    const auto target = req.target();
    request.target = std::string_view(target.data(), target.size());
    const auto content_type = req[http::field::content_type];
    request.content_type = std::string_view(content_type.data(), content_type.size());
    const auto authorization = req[http::field::authorization];
    request.authorization = std::string_view(authorization.data(), authorization.size());
    request.body = req.body();
    HttpResponse response = server_.service_.Handle(request);
    const bool keep_alive = req.keep_alive() && !stopping_ && !server_.stopping_;
    Send(std::move(response), req.version(), keep_alive, req.method() == http::verb::head);
  }

  void SendError(int status, const std::string& message) {
    Send(ErrorResponse(status, message), 11, false, false);
  }

  void Send(HttpResponse&& r, unsigned version, bool keep_alive, bool head) {
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(r.status), version);
    res->set(http::field::server, "modelmon");
    res->set(http::field::content_type, r.content_type);
    for (auto& [name, value] : r.headers) res->set(name, value);
    res->body() = std::move(r.body);
    res->keep_alive(keep_alive);
    res->prepare_payload();
    if (head) res->body().clear();  // Content-Length stays that of the GET response.
    response_ = res;
    stream_.expires_after(config_.request_timeout);
    http::async_write(stream_, *res,
                      [self = shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
                        self->response_.reset();
                        if (ec || !keep_alive) return self->Close();
                        self->WaitForRequest();
                      });
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  HttpServer& server_;
  const ServerConfig& config_;
  beast::flat_buffer buffer_{1 << 16};
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<void> response_;
  bool idle_ = false;
  bool stopping_ = false;
};

HttpServer::HttpServer(net::io_context& ioc, const ServerConfig& config, Service& service)
    : ioc_(ioc), config_(config), service_(service), acceptor_(net::make_strand(ioc)) {}

HttpServer::~HttpServer() = default;

bool HttpServer::Listen(std::string* error) {
  beast::error_code ec;
  const auto address = net::ip::make_address(config_.listen_address, ec);
  if (ec) {
    *error = "server.listen: invalid address \"" + config_.listen_address + "\": " + ec.message();
    return false;
  }
  const tcp::endpoint endpoint(address, config_.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    *error = "cannot listen on " + config_.listen_address + ":" + std::to_string(config_.port) +
             ": " + ec.message();
    return false;
  }
  port_ = acceptor_.local_endpoint().port();
  return true;
}

void HttpServer::Start() {
  net::dispatch(acceptor_.get_executor(), [this] { DoAccept(); });
}

void HttpServer::DoAccept() {
  acceptor_.async_accept(net::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
    if (!ec) {
      if (active_.load() >= config_.max_connections) {
        service_.CountLimitHit("connections");
        beast::error_code ignored;
        socket.close(ignored);
      } else {
        auto session = std::make_shared<Session>(std::move(socket), *this);
        Register(session);
        session->Start();
      }
    }
    DoAccept();
  });
}

void HttpServer::Register(const std::shared_ptr<Session>& session) {
  ++active_;
  std::lock_guard<std::mutex> lock(mu_);
  // Drop entries of closed sessions so the list stays bounded by the live connections.
  if (sessions_.size() >= 2 * active_.load() + 16) {
    std::erase_if(sessions_, [](const std::weak_ptr<Session>& s) { return s.expired(); });
  }
  sessions_.push_back(session);
}

void HttpServer::Unregister() { --active_; }

std::vector<std::shared_ptr<Session>> HttpServer::LiveSessions() {
  std::vector<std::shared_ptr<Session>> live;
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& weak : sessions_) {
    if (auto s = weak.lock()) live.push_back(std::move(s));
  }
  return live;
}

void HttpServer::Shutdown() {
  if (stopping_.exchange(true)) return;
  net::post(acceptor_.get_executor(), [this] {
    beast::error_code ec;
    acceptor_.close(ec);
  });
  for (auto& s : LiveSessions()) s->NotifyShutdown();
}

void HttpServer::CloseAll() {
  for (auto& s : LiveSessions()) s->ForceClose();
}

}  // namespace modelmon::server
