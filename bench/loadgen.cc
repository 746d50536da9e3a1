// modelmon_loadgen: a single-threaded HTTP/1.1 load generator for the load tests in
// bench/run_load.sh. It keeps N keep-alive connections busy with POST requests whose bytes are
// built once before the run, and prints one JSON object with the totals and the latency
// percentiles.
//
// Closed loop (default): every connection sends its next request as soon as the previous response
// is complete. Open loop (--rate R): requests are due at t0 + i/R whatever the server does; a due
// request waits for an idle connection, and its latency runs from the time it was due, so a slow
// server is charged for the queueing it causes (no coordinated omission).
//
// Plain POSIX sockets and epoll, IPv4 only, no TLS, no pipelining, responses must carry a
// Content-Length (chunked responses count as errors). One thread; memory is the request bytes plus
// one receive buffer per connection plus 8 bytes per measured request.
//
// Usage: modelmon_loadgen --port P [--host 127.0.0.1] [--path /v1/predictions] --bodies FILE
//          [--connections 4] [--duration 10] [--warmup 1] [--rate R] [--requests N]
//          [--scrape-metrics] [--token T] [--content-type application/json]
//   --bodies FILE: one request body per line (a JSON object, or a JSON array for a batch); blank
//   lines are skipped. Connections cycle through the bodies, each from its own offset.
//   --url http://host:port/path is accepted in place of --host/--port/--path.
// Exit status: 0 when the run completed (errors are reported in the JSON), 2 on bad usage or when
// the server cannot be reached at all.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace {

int64_t NowNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string path = "/v1/predictions";
  std::string bodies_file;
  std::string content_type = "application/json";
  std::string token;
  int connections = 4;
  double duration_s = 10;
  double warmup_s = 0;
  double rate = 0;       // Requests per second over all connections; 0: closed loop.
  int64_t requests = 0;  // Stop after this many completed requests (0: duration only).
  bool scrape = false;   // GET /metrics every second on its own connection.
  std::string scrape_path = "/metrics";
};

[[noreturn]] void Usage(const char* error) {
  std::fprintf(stderr, "modelmon_loadgen: %s\n", error);
  std::fprintf(stderr,
               "usage: modelmon_loadgen --port P --bodies FILE [--host H] [--path P] [--url U]\n"
               "  [--connections N] [--duration S] [--warmup S] [--rate R] [--requests N]\n"
               "  [--scrape-metrics] [--scrape-path P] [--token T] [--content-type T]\n");
  std::exit(2);
}

Options Parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Usage("missing value after an option");
      return argv[++i];
    };
    if (a == "--host") {
      o.host = value();
    } else if (a == "--port") {
      o.port = std::atoi(value().c_str());
    } else if (a == "--path") {
      o.path = value();
    } else if (a == "--url") {
      // http://host:port/path
      std::string u = value();
      const std::string scheme = "http://";
      if (u.rfind(scheme, 0) != 0) Usage("--url must start with http://");
      u = u.substr(scheme.size());
      const size_t slash = u.find('/');
      const std::string authority = u.substr(0, slash);
      o.path = slash == std::string::npos ? "/" : u.substr(slash);
      const size_t colon = authority.rfind(':');
      o.host = authority.substr(0, colon);
      o.port = colon == std::string::npos ? 80 : std::atoi(authority.substr(colon + 1).c_str());
    } else if (a == "--bodies") {
      o.bodies_file = value();
    } else if (a == "--content-type") {
      o.content_type = value();
    } else if (a == "--token") {
      o.token = value();
    } else if (a == "--connections") {
      o.connections = std::atoi(value().c_str());
    } else if (a == "--duration") {
      o.duration_s = std::atof(value().c_str());
    } else if (a == "--warmup") {
      o.warmup_s = std::atof(value().c_str());
    } else if (a == "--rate") {
      o.rate = std::atof(value().c_str());
    } else if (a == "--requests") {
      o.requests = std::atoll(value().c_str());
    } else if (a == "--scrape-metrics") {
      o.scrape = true;
    } else if (a == "--scrape-path") {
      o.scrape_path = value();
    } else {
      Usage(("unknown option " + std::string(a)).c_str());
    }
  }
  if (o.port <= 0 || o.port > 65535) Usage("--port (or --url) is required");
  if (o.bodies_file.empty()) Usage("--bodies is required");
  if (o.connections < 1) Usage("--connections must be >= 1");
  if (o.duration_s <= 0 || o.warmup_s < 0) Usage("--duration must be > 0, --warmup >= 0");
  if (o.rate < 0) Usage("--rate must be >= 0");
  return o;
}

// A request's bytes on the wire and the size of its body.
struct Request {
  std::string bytes;
  size_t body_bytes = 0;
};

std::string Head(const Options& o, const char* method, const std::string& path) {
  std::string h;
  h += method;
  h += ' ';
  h += path;
  h += " HTTP/1.1\r\nHost: ";
  h += o.host;
  h += "\r\n";
  if (!o.token.empty()) {
    h += "Authorization: Bearer ";
    h += o.token;
    h += "\r\n";
  }
  return h;
}

std::vector<Request> BuildRequests(const Options& o) {
  std::ifstream in(o.bodies_file);
  if (!in) Usage(("cannot read " + o.bodies_file).c_str());
  std::vector<Request> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    Request r;
    r.bytes = Head(o, "POST", o.path);
    r.bytes += "Content-Type: ";
    r.bytes += o.content_type;
    r.bytes += "\r\nContent-Length: ";
    r.bytes += std::to_string(line.size());
    r.bytes += "\r\n\r\n";
    r.bytes += line;
    r.body_bytes = line.size();
    out.push_back(std::move(r));
  }
  if (out.empty()) Usage(("no request bodies in " + o.bodies_file).c_str());
  return out;
}

// Incremental parse of one HTTP/1.1 response with a Content-Length.
struct ResponseParser {
  enum class Result { kIncomplete, kComplete, kError };
  size_t header_end = 0;  // Offset past "\r\n\r\n"; 0 while unknown.
  size_t content_length = 0;
  int status = 0;
  bool close = false;

  void Reset() { *this = ResponseParser(); }

  static bool HasHeader(std::string_view head, std::string_view name_lower,
                        std::string_view value_lower, size_t* number) {
    size_t pos = 0;
    while ((pos = head.find("\r\n", pos)) != std::string_view::npos) {
      pos += 2;
      if (head.size() - pos < name_lower.size()) return false;
      bool match = true;
      for (size_t i = 0; i < name_lower.size() && match; ++i) {
        match = std::tolower(static_cast<unsigned char>(head[pos + i])) == name_lower[i];
      }
      if (!match) continue;
      size_t v = pos + name_lower.size();
      while (v < head.size() && head[v] == ' ') ++v;
      if (number != nullptr) {
        *number = std::strtoull(head.data() + v, nullptr, 10);
        return true;
      }
      for (size_t i = 0; i < value_lower.size(); ++i) {
        if (v + i >= head.size() ||
            std::tolower(static_cast<unsigned char>(head[v + i])) != value_lower[i]) {
          return false;
        }
      }
      return true;
    }
    return false;
  }

  // buf holds the bytes received so far for this response (and nothing before it).
  Result Feed(std::string_view buf) {
    if (header_end == 0) {
      const size_t end = buf.find("\r\n\r\n");
      if (end == std::string_view::npos) {
        return buf.size() > 65536 ? Result::kError : Result::kIncomplete;
      }
      header_end = end + 4;
      const std::string_view head = buf.substr(0, end + 2);
      if (head.size() < 12 || head.substr(0, 5) != "HTTP/") return Result::kError;
      status = std::atoi(std::string(head.substr(9, 3)).c_str());
      if (!HasHeader(head, "content-length:", "", &content_length)) return Result::kError;
      close = HasHeader(head, "connection:", "close", nullptr);
    }
    return buf.size() >= header_end + content_length ? Result::kComplete : Result::kIncomplete;
  }
};

struct Connection {
  int fd = -1;
  bool scrape = false;
  bool connected = false;
  bool busy = false;
  bool want_out = false;
  const Request* request = nullptr;
  size_t written = 0;
  int64_t start_ns = 0;  // Intended (open loop) or actual (closed loop) send time.
  size_t next_body = 0;
  std::string in;  // Received bytes of the current response.
  ResponseParser parser;
};

class LoadGenerator {
 public:
  LoadGenerator(const Options& o, std::vector<Request> requests)
      : o_(o), requests_(std::move(requests)) {
    scrape_request_.bytes = Head(o, "GET", o.scrape_path) + "\r\n";
    epfd_ = epoll_create1(EPOLL_CLOEXEC);
    inet_pton(AF_INET, o.host.c_str(), &addr_.sin_addr);
    addr_.sin_family = AF_INET;
    addr_.sin_port = htons(static_cast<uint16_t>(o.port));
    if (addr_.sin_addr.s_addr == 0 && o.host != "0.0.0.0") Usage("--host must be an IPv4 address");
    latencies_.reserve(1 << 20);
  }

  int Run() {
    conns_.resize(static_cast<size_t>(o_.connections) + (o_.scrape ? 1 : 0));
    for (size_t i = 0; i < conns_.size(); ++i) {
      conns_[i].scrape = o_.scrape && i + 1 == conns_.size();
      conns_[i].next_body = i * requests_.size() / static_cast<size_t>(o_.connections);
      conns_[i].in.reserve(1 << 16);
      if (!Connect(i)) {
        std::fprintf(stderr, "modelmon_loadgen: cannot connect to %s:%d: %s\n", o_.host.c_str(),
                     o_.port, std::strerror(errno));
        return 2;
      }
    }
    start_ns_ = NowNs();
    measure_from_ns_ = start_ns_ + static_cast<int64_t>(o_.warmup_s * 1e9);
    end_ns_ = measure_from_ns_ + static_cast<int64_t>(o_.duration_s * 1e9);
    if (o_.rate > 0) {
      rate_timer_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
      Watch(rate_timer_, kRateTimerTag, EPOLLIN);
      ArmAt(rate_timer_, start_ns_, 0);
    }
    if (o_.scrape) {
      scrape_timer_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
      Watch(scrape_timer_, kScrapeTimerTag, EPOLLIN);
      ArmAt(scrape_timer_, start_ns_ + 1000000000, 1000000000);
    }
    for (size_t i = 0; i < conns_.size(); ++i) {
      if (conns_[i].scrape) continue;
      if (o_.rate == 0) {
        Send(i, NowNs());
      } else {
        idle_.push_back(i);
      }
    }
    std::vector<epoll_event> events(conns_.size() + 2);
    while (!Done()) {
      const int64_t left_ms = (end_ns_ - NowNs()) / 1000000 + 1;
      const int n = epoll_wait(epfd_, events.data(), static_cast<int>(events.size()),
                               static_cast<int>(std::clamp<int64_t>(left_ms, 0, 1000)));
      for (int k = 0; k < n; ++k) {
        const uint64_t tag = events[static_cast<size_t>(k)].data.u64;
        const uint32_t ev = events[static_cast<size_t>(k)].events;
        if (tag == kRateTimerTag) {
          OnRateTimer();
        } else if (tag == kScrapeTimerTag) {
          OnScrapeTimer();
        } else {
          OnSocket(static_cast<size_t>(tag), ev);
        }
      }
    }
    stop_ns_ = NowNs();
    Report();
    return 0;
  }

 private:
  static constexpr uint64_t kRateTimerTag = ~uint64_t{0};
  static constexpr uint64_t kScrapeTimerTag = ~uint64_t{0} - 1;

  bool Done() const {
    const int64_t now = NowNs();
    if (now >= end_ns_) return true;
    return o_.requests > 0 && completed_total_ >= o_.requests;
  }

  void Watch(int fd, uint64_t tag, uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = tag;
    epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
  }

  static void ArmAt(int fd, int64_t at_ns, int64_t interval_ns) {
    itimerspec spec{};
    spec.it_value.tv_sec = at_ns / 1000000000;
    spec.it_value.tv_nsec = at_ns % 1000000000;
    if (spec.it_value.tv_sec == 0 && spec.it_value.tv_nsec == 0) spec.it_value.tv_nsec = 1;
    spec.it_interval.tv_sec = interval_ns / 1000000000;
    spec.it_interval.tv_nsec = interval_ns % 1000000000;
    timerfd_settime(fd, TFD_TIMER_ABSTIME, &spec, nullptr);
  }

  bool Connect(size_t i) {
    Connection& c = conns_[i];
    c.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c.fd < 0) return false;
    const int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    // Blocking connect (at start and after the server closed a connection), then non-blocking I/O.
    if (connect(c.fd, reinterpret_cast<const sockaddr*>(&addr_), sizeof addr_) != 0) {
      close(c.fd);
      c.fd = -1;
      return false;
    }
    fcntl(c.fd, F_SETFL, fcntl(c.fd, F_GETFL) | O_NONBLOCK);
    c.connected = true;
    c.want_out = false;
    Watch(c.fd, i, EPOLLIN);
    return true;
  }

  void Reconnect(size_t i, const char* why) {
    Connection& c = conns_[i];
    ++errors_[why];
    epoll_ctl(epfd_, EPOLL_CTL_DEL, c.fd, nullptr);
    close(c.fd);
    c.fd = -1;
    c.connected = false;
    const bool was_busy = c.busy;
    c.busy = false;
    c.in.clear();
    c.parser.Reset();
    if (!Connect(i)) {
      ++errors_["reconnect_failed"];
      return;
    }
    if (!c.scrape && was_busy) Next(i);
  }

  // Gives an idle load connection its next request: in closed loop at once, in open loop the
  // oldest due request if any.
  void Next(size_t i) {
    if (Done()) return;
    if (o_.rate == 0) {
      Send(i, NowNs());
    } else if (!backlog_.empty()) {
      const int64_t due = backlog_.front();
      backlog_.pop_front();
      Send(i, due);
    } else {
      idle_.push_back(i);
    }
  }

  void Send(size_t i, int64_t start_ns) {
    Connection& c = conns_[i];
    if (c.scrape) {
      c.request = &scrape_request_;
    } else {
      c.request = &requests_[c.next_body];
      c.next_body = (c.next_body + 1) % requests_.size();
    }
    c.busy = true;
    c.written = 0;
    c.start_ns = start_ns;
    c.in.clear();
    c.parser.Reset();
    Write(i);
  }

  void Write(size_t i) {
    Connection& c = conns_[i];
    const std::string& bytes = c.request->bytes;
    while (c.written < bytes.size()) {
      const ssize_t n =
          ::send(c.fd, bytes.data() + c.written, bytes.size() - c.written, MSG_NOSIGNAL);
      if (n > 0) {
        c.written += static_cast<size_t>(n);
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        SetWantOut(i, true);
        return;
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        Reconnect(i, "send_failed");
        return;
      }
    }
    SetWantOut(i, false);
  }

  void SetWantOut(size_t i, bool want) {
    Connection& c = conns_[i];
    if (c.want_out == want) return;
    c.want_out = want;
    epoll_event ev{};
    ev.events = EPOLLIN | (want ? EPOLLOUT : 0u);
    ev.data.u64 = i;
    epoll_ctl(epfd_, EPOLL_CTL_MOD, c.fd, &ev);
  }

  void OnSocket(size_t i, uint32_t ev) {
    Connection& c = conns_[i];
    if ((ev & EPOLLOUT) != 0 && c.busy) Write(i);
    if ((ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) == 0 || c.fd < 0) return;
    char chunk[1 << 16];
    for (;;) {
      const ssize_t n = ::recv(c.fd, chunk, sizeof chunk, 0);
      if (n > 0) {
        if (!c.busy) {
          Reconnect(i, "unexpected_bytes");
          return;
        }
        c.in.append(chunk, static_cast<size_t>(n));
        const auto r = c.parser.Feed(c.in);
        if (r == ResponseParser::Result::kError) {
          Reconnect(i, "bad_response");
          return;
        }
        if (r == ResponseParser::Result::kComplete) {
          Complete(i);
          if (c.fd < 0 || !c.busy) return;  // Reconnected, or idle until the next request.
        }
        if (static_cast<size_t>(n) < sizeof chunk) return;
      } else if (n == 0) {
        // An idle connection closed by the server's keep-alive timeout is not a failed request.
        Reconnect(i, c.busy ? "closed_by_server" : "closed_idle_by_server");
        return;
      } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return;
      } else if (errno != EINTR) {
        Reconnect(i, "recv_failed");
        return;
      }
    }
  }

  void Complete(size_t i) {
    Connection& c = conns_[i];
    const int64_t now = NowNs();
    c.busy = false;
    if (c.scrape) {
      ++scrapes_;
      ++scrape_status_[c.parser.status];
      scrape_max_ns_ = std::max(scrape_max_ns_, now - c.start_ns);
      scrape_bytes_ += c.parser.content_length;
    } else {
      ++completed_total_;
      if (c.start_ns >= measure_from_ns_ && now <= end_ns_) {
        ++status_[c.parser.status];
        latencies_.push_back(now - c.start_ns);
        body_bytes_ += c.request->body_bytes;
        wire_bytes_ += c.request->bytes.size();
      }
    }
    const bool close_after = c.parser.close;
    c.in.clear();
    c.parser.Reset();
    if (close_after) {
      c.busy = !c.scrape;  // Makes Reconnect() send the next request.
      Reconnect(i, "connection_close");
      return;
    }
    if (!c.scrape) Next(i);
  }

  void OnRateTimer() {
    uint64_t expirations = 0;
    if (read(rate_timer_, &expirations, sizeof expirations) < 0 && errno == EAGAIN) return;
    const int64_t now = NowNs();
    const double period_ns = 1e9 / o_.rate;
    for (;;) {
      const int64_t due =
          start_ns_ + static_cast<int64_t>(static_cast<double>(scheduled_) * period_ns);
      if (due > now || due >= end_ns_) break;
      ++scheduled_;
      backlog_.push_back(due);
    }
    while (!backlog_.empty() && !idle_.empty()) {
      const size_t i = idle_.front();  // FIFO: every connection takes turns.
      idle_.pop_front();
      const int64_t due = backlog_.front();
      backlog_.pop_front();
      Send(i, due);
    }
    const int64_t next =
        start_ns_ + static_cast<int64_t>(static_cast<double>(scheduled_) * period_ns);
    if (next < end_ns_) ArmAt(rate_timer_, next, 0);
  }

  void OnScrapeTimer() {
    uint64_t expirations = 0;
    if (read(scrape_timer_, &expirations, sizeof expirations) < 0 && errno == EAGAIN) return;
    const size_t i = conns_.size() - 1;
    if (conns_[i].busy) {
      ++scrapes_skipped_;  // The previous scrape is still running.
      return;
    }
    if (conns_[i].fd >= 0) Send(i, NowNs());
  }

  int64_t Percentile(double q) const {
    if (latencies_.empty()) return 0;
    const size_t k = std::min(latencies_.size() - 1,
                              static_cast<size_t>(q * static_cast<double>(latencies_.size())));
    return latencies_[k];
  }

  void Report() {
    std::sort(latencies_.begin(), latencies_.end());
    const double elapsed =
        static_cast<double>(std::min(stop_ns_, end_ns_) - measure_from_ns_) / 1e9;
    const double n = static_cast<double>(latencies_.size());
    auto us = [](int64_t ns) { return static_cast<double>(ns) / 1e3; };
    std::printf("{\"mode\": \"%s\", \"connections\": %d, \"rate\": %.1f, \"elapsed_s\": %.3f,\n",
                o_.rate > 0 ? "open" : "closed", o_.connections, o_.rate, elapsed);
    std::printf(" \"requests\": %zu, \"bytes\": %" PRIu64 ", \"wire_bytes\": %" PRIu64 ",\n",
                latencies_.size(), body_bytes_, wire_bytes_);
    std::printf(" \"req_per_s\": %.1f, \"mb_per_s\": %.3f,\n", n / elapsed,
                static_cast<double>(body_bytes_) / 1e6 / elapsed);
    std::printf(
        " \"latency_us\": {\"p50\": %.1f, \"p90\": %.1f, \"p99\": %.1f, \"p999\": %.1f, "
        "\"max\": %.1f},\n",
        us(Percentile(0.5)), us(Percentile(0.9)), us(Percentile(0.99)), us(Percentile(0.999)),
        us(latencies_.empty() ? 0 : latencies_.back()));
    std::printf(" \"status\": {");
    const char* sep = "";
    for (const auto& [code, count] : status_) {
      std::printf("%s\"%d\": %" PRIu64, sep, code, count);
      sep = ", ";
    }
    std::printf("},\n \"errors\": {");
    sep = "";
    uint64_t non_2xx = 0;
    for (const auto& [code, count] : status_) {
      if (code < 200 || code >= 300) non_2xx += count;
    }
    for (const auto& [what, count] : errors_) {
      std::printf("%s\"%s\": %" PRIu64, sep, what.c_str(), count);
      sep = ", ";
    }
    std::printf("%s\"non_2xx\": %" PRIu64 "},\n", sep, non_2xx);
    std::printf(" \"backlog_at_end\": %zu", backlog_.size());
    if (o_.scrape) {
      std::printf(",\n \"scrapes\": {\"count\": %" PRIu64 ", \"skipped\": %" PRIu64
                  ", \"max_ms\": %.2f, \"bytes\": %" PRIu64 ", \"status\": {",
                  scrapes_, scrapes_skipped_, static_cast<double>(scrape_max_ns_) / 1e6,
                  scrape_bytes_);
      sep = "";
      for (const auto& [code, count] : scrape_status_) {
        std::printf("%s\"%d\": %" PRIu64, sep, code, count);
        sep = ", ";
      }
      std::printf("}}");
    }
    std::printf("}\n");
  }

  const Options o_;
  const std::vector<Request> requests_;
  Request scrape_request_;
  int epfd_ = -1;
  int rate_timer_ = -1;
  int scrape_timer_ = -1;
  sockaddr_in addr_{};
  std::vector<Connection> conns_;
  std::deque<size_t> idle_;      // Open loop: load connections waiting for a due request.
  std::deque<int64_t> backlog_;  // Open loop: due times of requests waiting for a connection.
  uint64_t scheduled_ = 0;
  int64_t start_ns_ = 0;
  int64_t measure_from_ns_ = 0;
  int64_t end_ns_ = 0;
  int64_t stop_ns_ = 0;
  int64_t completed_total_ = 0;
  std::vector<int64_t> latencies_;  // Measured requests only (after the warm-up, before the end).
  uint64_t body_bytes_ = 0;
  uint64_t wire_bytes_ = 0;
  std::map<int, uint64_t> status_;
  std::map<std::string, uint64_t> errors_;
  uint64_t scrapes_ = 0;
  uint64_t scrapes_skipped_ = 0;
  int64_t scrape_max_ns_ = 0;
  uint64_t scrape_bytes_ = 0;
  std::map<int, uint64_t> scrape_status_;
};

}  // namespace

int main(int argc, char** argv) {
  const Options options = Parse(argc, argv);
  LoadGenerator generator(options, BuildRequests(options));
  return generator.Run();
}
