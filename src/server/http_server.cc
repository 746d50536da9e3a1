// clang-format off
#include <utility>  // Must precede Asio's awaitable.hpp under GCC 12 in C++20.
// clang-format on

#include "server/http_server.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <type_traits>

#include "server/auth.h"
#include "server/limits.h"
#include "server/request_framing.h"
#include "server/routes.h"
#include "server/tls_context.h"

namespace modelmon::server {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;

namespace {

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// Read-ahead bound per connection (the header must fit too).
constexpr size_t kMinReadAhead = size_t{64} << 10;
// After an error response whose request was not read to the end, the connection keeps reading and
// discarding for this long (or this many bytes) so the client sees the response, not a reset.
constexpr auto kLingerTime = std::chrono::seconds(1);
constexpr size_t kLingerBytes = size_t{1} << 20;
// Retry-After (seconds) when the admission budget is full, and during a drain.
constexpr const char* kRetryAfterBusy = "1";
constexpr const char* kRetryAfterDraining = "5";

// Classifies a failed TLS handshake for modelmon_tls_handshake_failures_total{reason}.
const char* HandshakeFailureReason(const beast::error_code& ec) {
  if (ec == beast::error::timeout) return "timeout";
  if (ec.category() == net::error::get_ssl_category() &&
      ERR_GET_REASON(static_cast<unsigned long>(static_cast<unsigned>(ec.value()))) ==
          SSL_R_HTTP_REQUEST) {
    return "plain_http";
  }
  if (ec == net::error::eof || ec == net::error::connection_reset ||
      ec == ssl::error::stream_truncated) {
    return "eof";
  }
  return "protocol";
}

int64_t SteadyNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

// What HttpServer needs from a connection of either stream type. Methods may be called from any
// thread; they post to the connection's strand.
//
// Eviction: a connection is evictable while it holds no request (before its first complete
// request head, between keep-alive requests, or lingering after an error). evictable_since_ holds
// when it became so (steady-clock nanoseconds), kBusy while a request is being served, or
// kEvicting once HttpServer claimed it; the claim and the connection's own transitions are
// compare-exchanges, so a claimed connection never starts serving a request.
class SessionBase {
 public:
  static constexpr int64_t kBusy = INT64_MAX;
  static constexpr int64_t kEvicting = INT64_MIN;

  SessionBase() : evictable_since_(SteadyNanos()) {}
  virtual ~SessionBase() = default;

  // kBusy, kEvicting, or when the connection became evictable.
  int64_t evictable_since() const { return evictable_since_.load(std::memory_order_acquire); }
  // True when this call claimed the connection, evictable since `since`, for eviction: the caller
  // then calls Evict(). False when it changed in between.
  bool Claim(int64_t since) {
    return since != kBusy && since != kEvicting &&
           evictable_since_.compare_exchange_strong(since, kEvicting, std::memory_order_acq_rel);
  }
  // After a successful Claim(): closes the connection (on its strand).
  virtual void Evict() = 0;
  // A drain began: a keep-alive connection waiting for its next request closes now.
  virtual void NotifyDrain() = 0;
  // The listener closed: close now, or after the response being written.
  virtual void NotifyStop() = 0;
  // Close now, whatever the connection is doing.
  virtual void ForceClose() = 0;

 protected:
  // Becomes evictable from `since` unless already claimed.
  void SetEvictable(int64_t since) {
    int64_t v = evictable_since_.load(std::memory_order_acquire);
    while (v != kEvicting &&
           !evictable_since_.compare_exchange_weak(v, since, std::memory_order_acq_rel)) {
    }
  }
  // Leaves the evictable state to serve a request; false when already claimed (close instead).
  bool SetBusy() {
    int64_t v = evictable_since_.load(std::memory_order_acquire);
    for (;;) {
      if (v == kEvicting) return false;
      if (evictable_since_.compare_exchange_weak(v, kBusy, std::memory_order_acq_rel)) return true;
    }
  }

 private:
  std::atomic<int64_t> evictable_since_;
};

// One connection over Stream (PlainStream or TlsStream). Every handler runs on the connection's
// strand, so members need no lock. Holds at most one request: the next is read only once the
// response to the previous one is written. Admission reservations are released when the response is
// written or, at the latest, when the session is destroyed.
template <class Stream>
class Session final : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

 public:
  template <class... Args>
  Session(HttpServer& server, tcp::socket&& socket, Args&... args)
      : stream_(std::move(socket), args...),
        server_(server),
        config_(server.config_),
        buffer_(std::max(kMinReadAhead, config_.max_header_bytes + 4096)),
        request_timer_(stream_.get_executor()),
        head_timeout_(std::min(config_.header_timeout, config_.request_timeout)),
        head_deadline_(std::chrono::steady_clock::now() + head_timeout_) {
    chunk_header_ = [this](std::uint64_t size, beast::string_view, beast::error_code& ec) {
      OnChunkHeader(size, ec);
    };
  }

  ~Session() override {
    if (reserved_ > 0) server_.ReleaseBytes(reserved_);
    if (admitted_) server_.ReleaseRequest();
    server_.Unregister();
  }

  void Start() {
    net::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
      if constexpr (kTls) {
        self->Handshake();
      } else {
        self->WaitForRequest();
      }
    });
  }

  void NotifyDrain() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] {
      // Only keep-alive connections between requests: a new one may be sending its first.
      if (self->state_ == State::kIdle && self->requests_ > 0) self->Close();
    });
  }

  void NotifyStop() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] {
      self->stop_ = true;
      if (self->state_ != State::kWriting) self->Close();
    });
  }

  void ForceClose() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] {
      self->stop_ = true;
      self->Close();
    });
  }

  void Evict() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] { self->Close(); });
  }

 private:
  enum class State { kIdle, kReading, kWriting, kClosing, kClosed };

  beast::tcp_stream& Tcp() { return beast::get_lowest_layer(stream_); }

  // TLS only: the handshake counts towards the first request head's deadline.
  void Handshake() {
    state_ = State::kReading;
    Tcp().expires_at(head_deadline_);
    stream_.async_handshake(
        ssl::stream_base::server,
        [self = this->shared_from_this()](beast::error_code ec) { self->OnHandshake(ec); });
  }

  void OnHandshake(beast::error_code ec) {
    if (!ec) return WaitForRequest();
    if (state_ == State::kClosed) return;  // Closed by a stop or drain.
    const char* reason = HandshakeFailureReason(ec);
    server_.metrics_.CountTlsHandshakeFailure(reason);
    if (std::string_view(reason) != "plain_http") return Close();
    // A plain HTTP request reached the TLS port: answer in plain HTTP on the TCP stream.
    state_ = State::kWriting;
    auto message = std::make_shared<std::string>(
        "{\"error\":\"this port speaks HTTPS only; use https://\"}\n");
    message->insert(0,
                    "HTTP/1.1 400 Bad Request\r\nServer: modelmon\r\nContent-Type: "
                    "application/json\r\nConnection: close\r\nContent-Length: " +
                        std::to_string(message->size()) + "\r\n\r\n");
    Tcp().expires_after(config_.request_timeout);
    net::async_write(
        Tcp(), net::buffer(*message),
        [self = this->shared_from_this(), message](beast::error_code write_ec, std::size_t) {
          if (write_ec) return self->Close();
          self->LingerClose();
        });
  }

  // Waits for the first byte of the next request: on a new connection under the head deadline
  // (counted as a header timeout when it passes), between keep-alive requests under the idle
  // timeout.
  void WaitForRequest() {
    state_ = State::kIdle;
    if (stop_ || server_.stopping_.load() || (server_.draining_.load() && requests_ > 0)) {
      return Close();
    }
    if (requests_ > 0) SetEvictable(SteadyNanos());
    if (buffer_.size() > 0) return ReadHeader();  // Pipelined bytes already here.
    if (requests_ == 0) {
      Tcp().expires_at(head_deadline_);
    } else {
      Tcp().expires_after(config_.idle_timeout);
    }
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
                              if (ec) {
                                // By the deadline, not the error code: an expiry that passed
                                // before the read began may surface as another error.
                                if (self->requests_ == 0 && self->state_ != State::kClosed &&
                                    std::chrono::steady_clock::now() >= self->head_deadline_) {
                                  self->server_.metrics_.CountLimitHit(Limit::kHeaderTimeout);
                                }
                                return self->Close();
                              }
                              self->buffer_.commit(n);
                              self->ReadHeader();
                            });
  }

  // Arms the read deadline of the current request: on expiry the read is cancelled (not the
  // socket closed) so that 408 can still be sent.
  void ArmReadTimer(std::chrono::steady_clock::time_point deadline) {
    request_timer_.expires_at(deadline);
    request_timer_.async_wait(
        [self = this->shared_from_this(), request = requests_](beast::error_code ec) {
          if (ec || self->state_ != State::kReading || self->requests_ != request) return;
          self->timed_out_ = true;
          beast::error_code ignored;
          self->Tcp().socket().cancel(ignored);
        });
  }

  // Reads a request's head under the head deadline, then (after admission) its body, the whole
  // request under the request deadline.
  void ReadHeader() {
    state_ = State::kReading;
    const auto now = std::chrono::steady_clock::now();
    if (requests_ > 0) head_deadline_ = now + head_timeout_;  // The first's runs from accept.
    request_deadline_ = now + config_.request_timeout;
    ++requests_;
    parser_.emplace();
    ConfigureRequestParser(*parser_, config_.max_header_bytes, config_.max_body_bytes);
    parser_->on_chunk_header(chunk_header_);
    Tcp().expires_never();
    timed_out_ = false;
    in_head_ = true;
    ArmReadTimer(std::min(head_deadline_, request_deadline_));
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                              self->OnHeader(ec);
                            });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) return OnReadError(ec);
    in_head_ = false;
    if (!SetBusy()) return Close();  // Evicted while its head arrived.
    const auto& req = parser_->get();
    if (auto rejection = CheckRequestHead(req)) {
      request_timer_.cancel();
      server_.metrics_.CountLimitHit(Limit::kMalformedRequest);
      return SendError(rejection->status, rejection->message);
    }
    // What the handler sees of the head is taken now: trailer fields, which the parser merges into
    // the message later, never supply authentication, a content type or connection options.
    const auto content_type = req[http::field::content_type];
    head_content_type_.assign(content_type.data(), content_type.size());
    const auto authorization = req[http::field::authorization];
    head_authorization_.assign(authorization.data(), authorization.size());
    head_keep_alive_ = req.keep_alive();
    const auto target = req.target();
    const Scope scope = ScopeOf(std::string_view(target.data(), target.size()));
    const bool guarded = scope == Scope::kIngest || scope == Scope::kAdmin;
    const auto length = parser_->content_length();
    const bool has_body = parser_->chunked() || (length && *length > 0);
    if ((guarded || has_body) && scope != Scope::kHealth) {
      // The token is checked on the head, before any admission budget is reserved or a body byte
      // read, so unauthenticated clients cannot exhaust the budget of authenticated ones.
      if (!BearerAuthorized(head_authorization_, TokenFor(config_, scope))) {
        request_timer_.cancel();
        server_.metrics_.CountAuthFailure(ScopeName(scope));
        server_.metrics_.CountRequest("unauthorized", 401, 0.0);
        return Send(Unauthorized(scope), 11, /*keep_alive=*/false, /*head=*/false,
                    /*linger=*/true);
      }
    }
    if (guarded && server_.draining_.load()) {
      server_.metrics_.CountLimitHit(Limit::kDraining);
      return Refuse("the server is shutting down; retry (another instance)", kRetryAfterDraining);
    }
    if (guarded || has_body) {
      // Content-Length is at most max_body_bytes here (the parser checked it).
      const size_t bytes = length ? static_cast<size_t>(*length) : 0;
      switch (server_.Admit(bytes)) {
        case HttpServer::Admission::kRequests:
          server_.metrics_.CountLimitHit(Limit::kInflightRequests);
          return Refuse("too many requests in flight; retry later", kRetryAfterBusy);
        case HttpServer::Admission::kBytes:
          server_.metrics_.CountLimitHit(Limit::kInflightBytes);
          return Refuse("too many request body bytes in flight; retry later", kRetryAfterBusy);
        case HttpServer::Admission::kAdmitted:
          admitted_ = true;
          reserved_ = bytes;
          break;
      }
    }
    if (parser_->is_done()) return OnRead({});
    ArmReadTimer(request_deadline_);  // The body under the whole request's deadline.
    const auto expect = req[http::field::expect];
    if (beast::iequals(expect, "100-continue")) {
      // Admitted: now invite the body (clients that wait for this never send a refused body).
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      return net::async_write(
          stream_, net::buffer(kContinue.data(), kContinue.size()),
          [self = this->shared_from_this()](beast::error_code write_ec, std::size_t) {
            if (write_ec) return self->Close();
            self->ReadBody();
          });
    }
    ReadBody();
  }

  void ReadBody() {
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code read_ec, std::size_t) {
                       self->OnRead(read_ec);
                     });
  }

  // Chunked bodies reserve their bytes chunk by chunk; over budget, the read stops with an error.
  void OnChunkHeader(std::uint64_t size, beast::error_code& ec) {
    if (size == 0 || !admitted_) return;
    if (size > config_.max_inflight_bytes || !server_.Grow(static_cast<size_t>(size))) {
      budget_exceeded_ = true;
      ec = net::error::no_buffer_space;
      return;
    }
    reserved_ += static_cast<size_t>(size);
  }

  void OnReadError(beast::error_code ec) {
    if (state_ == State::kClosed) return;  // Evicted or stopped: the socket is gone.
    request_timer_.cancel();
    if (budget_exceeded_) {
      budget_exceeded_ = false;
      server_.metrics_.CountLimitHit(Limit::kInflightBytes);
      return Refuse("too many request body bytes in flight; retry later", kRetryAfterBusy);
    }
    if (timed_out_ && in_head_) {
      server_.metrics_.CountLimitHit(Limit::kHeaderTimeout);
      return SendError(408, "request head not received in time");
    }
    if (timed_out_) {
      server_.metrics_.CountLimitHit(Limit::kRequestTimeout);
      return SendError(408, "request not received in time");
    }
    // The client went away (partial_message: in the middle of the body).
    if (ec == http::error::end_of_stream || ec == http::error::partial_message ||
        ec == net::error::connection_reset || ec == net::error::eof ||
        ec == net::error::operation_aborted || stop_) {
      return Close();
    }
    if (ec == http::error::body_limit) {
      server_.metrics_.CountLimitHit(Limit::kBodyBytes);
      std::string message = "request body larger than ";
      message += std::to_string(config_.max_body_bytes);
      message += " bytes";
      return SendError(413, message);
    }
    if (ec == http::error::header_limit) {
      server_.metrics_.CountLimitHit(Limit::kHeaderBytes);
      std::string message = "request headers larger than ";
      message += std::to_string(config_.max_header_bytes);
      message += " bytes";
      return SendError(431, message);
    }
    server_.metrics_.CountLimitHit(Limit::kMalformedRequest);
    return SendError(400, std::string("malformed HTTP request: ") + ec.message());
  }

  void OnRead(beast::error_code ec) {
    if (ec) return OnReadError(ec);
    request_timer_.cancel();
    const auto& req = parser_->get();
    HttpRequest request;
    const auto method = req.method_string();
    request.method = std::string_view(method.data(), method.size());
    const auto target = req.target();
    request.target = std::string_view(target.data(), target.size());
    request.content_type = head_content_type_;
    request.authorization = head_authorization_;
    request.body = req.body();
    HttpResponse response = server_.service_.Handle(request);
    const bool keep_alive = head_keep_alive_ && !stop_ && !server_.draining_.load();
    const unsigned version = req.version();
    const bool head = req.method() == http::verb::head;
    // The body is handled: free it and its reservation before the response is written.
    parser_.reset();
    if (reserved_ > 0) {
      server_.ReleaseBytes(reserved_);
      reserved_ = 0;
    }
    Send(std::move(response), version, keep_alive, head, /*linger=*/false);
  }

  // 503 with Retry-After; the body (if any) is not read, so the connection closes after.
  void Refuse(std::string_view message, const char* retry_after) {
    request_timer_.cancel();
    HttpResponse r = ErrorResponse(503, message);
    r.headers.emplace_back("Retry-After", retry_after);
    Send(std::move(r), 11, /*keep_alive=*/false, /*head=*/false, /*linger=*/true);
  }

  void SendError(int status, const std::string& message) {
    Send(ErrorResponse(status, message), 11, /*keep_alive=*/false, /*head=*/false,
         /*linger=*/true);
  }

  void Send(HttpResponse&& r, unsigned version, bool keep_alive, bool head, bool linger) {
    state_ = State::kWriting;
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(r.status), version);
    res->set(http::field::server, "modelmon");
    res->set(http::field::content_type, r.content_type);
    for (auto& [name, value] : r.headers) res->set(name, value);
    res->body() = std::move(r.body);
    res->keep_alive(keep_alive);
    res->prepare_payload();
    if (head) res->body().clear();  // Content-Length stays that of the GET response.
    Tcp().expires_after(config_.request_timeout);
    http::async_write(
        stream_, *res,
        [self = this->shared_from_this(), res, keep_alive, linger](
            beast::error_code ec, std::size_t) { self->OnWritten(ec, keep_alive, linger); });
  }

  void OnWritten(beast::error_code ec, bool keep_alive, bool linger) {
    if (admitted_) {
      admitted_ = false;
      if (reserved_ > 0) server_.ReleaseBytes(reserved_);
      reserved_ = 0;
      server_.ReleaseRequest();
    }
    parser_.reset();
    if (ec) return Close();
    if (linger && !stop_) return LingerClose();
    if (!keep_alive || stop_) return Close();
    WaitForRequest();
  }

  // Half-closes, then discards what the client still sends (bounded in time and bytes) so that it
  // reads the response instead of a connection reset. TCP level, also under TLS.
  void LingerClose() {
    state_ = State::kClosing;
    SetEvictable(0);  // The first to go at the connection cap.
    beast::error_code ignored;
    Tcp().socket().shutdown(tcp::socket::shutdown_send, ignored);
    Tcp().expires_after(kLingerTime);
    buffer_.clear();
    linger_bytes_ = 0;
    Discard();
  }

  void Discard() {
    Tcp().async_read_some(buffer_.prepare(4096), [self = this->shared_from_this()](
                                                     beast::error_code ec, std::size_t n) {
      self->linger_bytes_ += n;
      if (ec || self->state_ != State::kClosing || self->linger_bytes_ >= kLingerBytes) {
        return self->Close();
      }
      self->Discard();
    });
  }

  void Close() {
    if (state_ == State::kClosed) return;
    state_ = State::kClosed;
    request_timer_.cancel();
    beast::error_code ec;
    Tcp().socket().shutdown(tcp::socket::shutdown_send, ec);
    Tcp().socket().close(ec);
  }

  Stream stream_;
  HttpServer& server_;
  const ServerConfig& config_;
  beast::flat_buffer buffer_;
  net::steady_timer request_timer_;
  const std::chrono::milliseconds head_timeout_;  // min(header_timeout, request_timeout).
  // The current (or next, on a new connection) request head must be complete by head_deadline_,
  // the whole request by request_deadline_.
  std::chrono::steady_clock::time_point head_deadline_;
  std::chrono::steady_clock::time_point request_deadline_;
  std::optional<RequestParser> parser_;
  // Fields of the current request's head, copied when it is complete.
  std::string head_content_type_;
  std::string head_authorization_;
  bool head_keep_alive_ = false;
  std::function<void(std::uint64_t, beast::string_view, beast::error_code&)> chunk_header_;
  State state_ = State::kIdle;
  uint64_t requests_ = 0;  // Requests started on this connection.
  bool admitted_ = false;  // Holds one of the server's in-flight request slots.
  size_t reserved_ = 0;    // Body bytes reserved in the server's budget.
  bool budget_exceeded_ = false;
  bool timed_out_ = false;
  bool in_head_ = false;  // Reading a request head.
  bool stop_ = false;
  size_t linger_bytes_ = 0;
};

HttpServer::HttpServer(net::io_context& ioc, const ServerConfig& config, Service& service)
    : ioc_(ioc),
      config_(config),
      service_(service),
      metrics_(service.server_metrics()),
      acceptor_(net::make_strand(ioc)) {}

HttpServer::~HttpServer() = default;

HttpServer::ListenPlan::ListenPlan() = default;
HttpServer::ListenPlan::~ListenPlan() = default;
HttpServer::ListenPlan::ListenPlan(ListenPlan&&) noexcept = default;
HttpServer::ListenPlan& HttpServer::ListenPlan::operator=(ListenPlan&&) noexcept = default;

bool HttpServer::PrepareListen(const ServerConfig& config, ListenPlan* plan, std::string* error) {
  if (config.tls.enabled()) {
    plan->tls = LoadTlsContext(config.tls, error);
    if (!plan->tls) return false;
  }
  beast::error_code ec;
  auto address = net::ip::make_address(config.listen_address, ec);
  if (ec) {
    // Not an IP address: a host name, resolved once, here, so that a name that does not resolve
    // is a configuration error and the address bound is the one check-config saw.
    net::io_context ioc;
    tcp::resolver resolver(ioc);
    const auto results = resolver.resolve(config.listen_address, std::to_string(config.port),
                                          tcp::resolver::numeric_service, ec);
    if (ec || results.empty()) {
      *error = "server.listen: cannot resolve the host \"" + config.listen_address +
               "\": " + (ec ? ec.message() : std::string("no address"));
      return false;
    }
    address = results.begin()->endpoint().address();
    for (const auto& entry : results) {
      if (entry.endpoint().address().is_v4()) {
        address = entry.endpoint().address();
        break;
      }
    }
  }
  plan->endpoint = tcp::endpoint(address, config.port);
  return true;
}

bool HttpServer::Listen(ListenPlan plan, std::string* error) {
  beast::error_code ec;
  tls_ = std::move(plan.tls);
  const tcp::endpoint& endpoint = plan.endpoint;
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
      if (active_.load() >= config_.max_connections && !EvictIdlest()) {
        metrics_.CountLimitHit(Limit::kConnections);
        beast::error_code ignored;
        socket.close(ignored);
      } else if (tls_) {
        auto session = std::make_shared<Session<TlsStream>>(*this, std::move(socket), *tls_);
        Register(session);
        session->Start();
      } else {
        auto session = std::make_shared<Session<PlainStream>>(*this, std::move(socket));
        Register(session);
        session->Start();
      }
    }
    DoAccept();
  });
}

void HttpServer::Register(const std::shared_ptr<SessionBase>& session) {
  ++active_;
  std::lock_guard<std::mutex> lock(mu_);
  // Drop entries of closed sessions so the list stays bounded by the live connections.
  if (sessions_.size() >= 2 * active_.load() + 16) {
    std::erase_if(sessions_, [](const std::weak_ptr<SessionBase>& s) { return s.expired(); });
  }
  sessions_.push_back(session);
}

void HttpServer::Unregister() { --active_; }

bool HttpServer::EvictIdlest() {
  // A claim fails only when the chosen connection changed state meanwhile: look again, a bounded
  // number of times.
  for (int attempt = 0; attempt < 4; ++attempt) {
    std::shared_ptr<SessionBase> idlest;
    int64_t since = SessionBase::kBusy;
    for (auto& s : LiveSessions()) {
      const int64_t t = s->evictable_since();
      if (t != SessionBase::kEvicting && t < since) {
        since = t;
        idlest = std::move(s);
      }
    }
    if (!idlest) return false;
    if (idlest->Claim(since)) {
      metrics_.CountLimitHit(Limit::kEvicted);
      idlest->Evict();
      return true;
    }
  }
  return false;
}

std::vector<std::shared_ptr<SessionBase>> HttpServer::LiveSessions() {
  std::vector<std::shared_ptr<SessionBase>> live;
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& weak : sessions_) {
    if (auto s = weak.lock()) live.push_back(std::move(s));
  }
  return live;
}

HttpServer::Admission HttpServer::Admit(size_t bytes) {
  std::lock_guard<std::mutex> lock(admission_mu_);
  if (inflight_requests_ >= config_.max_inflight_requests) return Admission::kRequests;
  if (bytes > config_.max_inflight_bytes - inflight_bytes_) return Admission::kBytes;
  ++inflight_requests_;
  inflight_bytes_ += bytes;
  PublishInflight();
  return Admission::kAdmitted;
}

bool HttpServer::Grow(size_t bytes) {
  std::lock_guard<std::mutex> lock(admission_mu_);
  if (bytes > config_.max_inflight_bytes - inflight_bytes_) return false;
  inflight_bytes_ += bytes;
  PublishInflight();
  return true;
}

void HttpServer::ReleaseBytes(size_t bytes) {
  std::lock_guard<std::mutex> lock(admission_mu_);
  inflight_bytes_ -= std::min(bytes, inflight_bytes_);
  PublishInflight();
}

void HttpServer::ReleaseRequest() {
  std::lock_guard<std::mutex> lock(admission_mu_);
  if (inflight_requests_ > 0) --inflight_requests_;
  PublishInflight();
}

void HttpServer::PublishInflight() { metrics_.SetInflight(inflight_requests_, inflight_bytes_); }

size_t HttpServer::inflight_requests() const {
  std::lock_guard<std::mutex> lock(admission_mu_);
  return inflight_requests_;
}

void HttpServer::Drain() {
  if (draining_.exchange(true)) return;
  for (auto& s : LiveSessions()) s->NotifyDrain();
}

void HttpServer::Shutdown() {
  draining_.store(true);
  if (stopping_.exchange(true)) return;
  net::post(acceptor_.get_executor(), [this] {
    beast::error_code ec;
    acceptor_.close(ec);
  });
  for (auto& s : LiveSessions()) s->NotifyStop();
}

void HttpServer::CloseAll() {
  for (auto& s : LiveSessions()) s->ForceClose();
}

}  // namespace modelmon::server
