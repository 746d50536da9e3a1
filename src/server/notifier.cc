// clang-format off
#include <utility>  // Must precede Asio's awaitable.hpp under GCC 12 in C++20.
// clang-format on

#include "server/notifier.h"

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

namespace modelmon::server {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using json = nlohmann::json;
using Duration = std::chrono::steady_clock::duration;
using TimePoint = std::chrono::steady_clock::time_point;

constexpr std::chrono::milliseconds kInitialBackoff{500};
constexpr std::chrono::milliseconds kMaxBackoff{30000};

// An http:// URL split into the parts a request needs.
struct Endpoint {
  std::string host;
  std::string port = "80";
  std::string target = "/";
};

// Splits "http://host[:port][/path]". The config loader has already checked the scheme.
Endpoint ParseUrl(const std::string& url) {
  Endpoint e;
  std::string rest = url.substr(url.find("://") == std::string::npos ? 0 : url.find("://") + 3);
  const size_t slash = rest.find('/');
  if (slash != std::string::npos) {
    e.target = rest.substr(slash);
    rest.resize(slash);
  }
  const size_t colon = rest.rfind(':');
  if (colon != std::string::npos && rest.find(']', colon) == std::string::npos) {
    e.port = rest.substr(colon + 1);
    rest.resize(colon);
  }
  if (rest.size() >= 2 && rest.front() == '[' && rest.back() == ']') {
    rest = rest.substr(1, rest.size() - 2);
  }
  e.host = rest;
  return e;
}

std::string StripTrailingSlash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

// RFC 3339 UTC with milliseconds, e.g. 2027-01-15T08:00:00.123Z.
std::string Rfc3339(double unix_seconds) {
  const int64_t ms = std::llround(unix_seconds * 1000.0);  // Nearest: doubles carry ~0.2 us here.
  int64_t secs = ms / 1000;
  int64_t frac = ms % 1000;
  if (frac < 0) {
    frac += 1000;
    secs -= 1;
  }
  const auto t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(frac));
  return buf;
}

// The wall-clock time of the monotonic instant `at`, in Unix seconds.
double WallTime(const Clock& clock, TimePoint at) {
  const std::chrono::duration<double> ago = clock.Now() - at;
  return clock.UnixSeconds() - ago.count();
}

// POSTs a JSON body and reports whether the server answered 2xx. Connect, write and read together
// are bounded by `timeout` (Beast enforces expires_after on asynchronous operations only, so they
// run asynchronously on a private io_context); name resolution is not. Never throws.
bool PostJson(const Endpoint& endpoint, const std::string& body,
              std::chrono::milliseconds timeout) {
  try {
    net::io_context ioc;
    tcp::resolver resolver(ioc);
    const auto results = resolver.resolve(endpoint.host, endpoint.port);
    beast::tcp_stream stream(ioc);
    http::request<http::string_body> req{http::verb::post, endpoint.target, 11};
    req.set(http::field::host, endpoint.host + ":" + endpoint.port);
    req.set(http::field::user_agent, "modelmon");
    req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    bool ok = false;
    stream.expires_after(timeout);
    stream.async_connect(results, [&](beast::error_code ec, const tcp::endpoint&) {
      if (ec) return;
      http::async_write(stream, req, [&](beast::error_code write_ec, size_t) {
        if (write_ec) return;
        http::async_read(stream, buffer, res, [&](beast::error_code read_ec, size_t) {
          if (read_ec) return;
          ok = res.result_int() >= 200 && res.result_int() < 300;
          beast::error_code ignored;
          stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
        });
      });
    });
    ioc.run();
    return ok;
  } catch (const std::exception&) {
    return false;
  }
}

// Exponential backoff between failed attempts: 500 ms, doubling, capped at 30 s; reset on success.
class Backoff {
 public:
  Duration Next() {
    current_ = current_ == Duration::zero() ? Duration(kInitialBackoff)
                                            : std::min<Duration>(current_ * 2, kMaxBackoff);
    return current_;
  }
  void Reset() { current_ = Duration::zero(); }

 private:
  Duration current_ = Duration::zero();
};

// A delivery channel with its own worker thread. Subclasses hold their pending state under mu_ and
// implement Prepare (under the lock: the next body to send, if any is due) and Done (under the
// lock: the outcome of that attempt). Destruction stops the worker after at most the in-flight
// attempt's timeout. Thread-safe.
class Channel {
 public:
  Channel(const char* name, const std::string& url, std::chrono::milliseconds timeout,
          metrics::Registry& registry, const Clock* clock)
      : endpoint_(ParseUrl(url)), timeout_(timeout), clock_(clock) {
    auto counters = registry.AddCounter("modelmon_notifications_total",
                                        "Alert notification attempts by notifier and outcome.");
    success_ = counters.With({{"notifier", name}, {"outcome", "success"}});
    failure_ = counters.With({{"notifier", name}, {"outcome", "failure"}});
    dropped_ = counters.With({{"notifier", name}, {"outcome", "dropped"}});
    success_.Inc(0);
    failure_.Inc(0);
    dropped_.Inc(0);
    queue_length_ = registry
                        .AddGauge("modelmon_notification_queue_length",
                                  "Alert notifications waiting for delivery, by notifier.")
                        .With({{"notifier", name}});
    queue_length_.Set(0);
  }
  virtual ~Channel() = default;
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  // Starts the worker. Call once, after the subclass is fully constructed.
  void Start() {
    worker_ = std::thread([this] { Run(); });
  }

  // Stops and joins the worker. Idempotent; must be called before the subclass is destroyed.
  void Stop() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (worker_.joinable()) worker_.join();
  }

  // Wakes the worker so that it re-reads the clock and its state.
  void Wake() { cv_.notify_all(); }

 protected:
  // The next request body if something is due at `now`; otherwise nullopt and, in *wake, when to
  // look again (nullopt: only when woken).
  virtual std::optional<std::string> Prepare(TimePoint now, std::optional<TimePoint>* wake) = 0;
  // The outcome of the attempt whose body the last Prepare returned.
  virtual void Done(bool ok, TimePoint now) = 0;
  // Waiting notifications, for the queue-length gauge.
  virtual size_t Waiting() const = 0;

  const Clock& clock() const { return *clock_; }
  void CountDropped() { dropped_.Inc(); }

  std::mutex mu_;

 private:
  void Run() {
    std::unique_lock lock(mu_);
    while (!stop_) {
      const TimePoint now = clock_->Now();
      std::optional<TimePoint> wake;
      std::optional<std::string> body;
      if (!retry_at_ || now >= *retry_at_) {
        body = Prepare(now, &wake);
      } else {
        wake = retry_at_;
      }
      queue_length_.Set(static_cast<double>(Waiting()));
      if (body) {
        lock.unlock();
        const bool ok = PostJson(endpoint_, *body, timeout_);
        lock.lock();
        if (ok) {
          backoff_.Reset();
          retry_at_.reset();
        } else {
          retry_at_ = clock_->Now() + backoff_.Next();
        }
        Done(ok, clock_->Now());
        queue_length_.Set(static_cast<double>(Waiting()));
        (ok ? success_ : failure_).Inc();  // Last: the outcome is visible once fully applied.
        continue;
      }
      if (wake) {
        cv_.wait_for(lock, std::max<Duration>(*wake - now, std::chrono::milliseconds(1)));
      } else {
        cv_.wait(lock);
      }
    }
  }

  Endpoint endpoint_;
  std::chrono::milliseconds timeout_;
  const Clock* clock_;
  metrics::Counter success_, failure_, dropped_;
  metrics::Gauge queue_length_;
  std::condition_variable cv_;
  bool stop_ = false;                  // Guarded by mu_.
  std::optional<TimePoint> retry_at_;  // Guarded by mu_; set after a failure.
  Backoff backoff_;                    // Used by the worker only.
  std::thread worker_;
};

// Alertmanager API v2: the set of firing alerts, re-sent every resend_interval, plus resolutions
// not yet delivered. Every attempt sends the latest state.
class AlertmanagerChannel final : public Channel {
 public:
  AlertmanagerChannel(const NotifierConfig& config, std::string generator_url,
                      metrics::Registry& registry, const Clock* clock)
      : Channel("alertmanager", StripTrailingSlash(config.alertmanager_url) + "/api/v2/alerts",
                config.timeout, registry, clock),
        resend_(config.resend_interval),
        generator_url_(std::move(generator_url)) {}
  ~AlertmanagerChannel() override { Stop(); }

  void Update(const std::vector<alerts::AlertInstance>& active,
              const std::vector<alerts::Transition>& transitions) {
    std::lock_guard lock(mu_);
    std::map<alerts::Labels, const alerts::AlertInstance*> firing;
    for (const alerts::AlertInstance& a : active) {
      if (a.state == alerts::State::kFiring) firing.emplace(a.labels, &a);
    }
    std::map<alerts::Labels, TimePoint> resolved_at;
    for (const alerts::Transition& t : transitions) {
      if (t.from == alerts::State::kFiring && t.to == alerts::State::kInactive) {
        resolved_at[t.alert.labels] = t.at;
      }
    }
    const double wall_now = clock().UnixSeconds();
    for (auto& [labels, entry] : alerts_) {
      if (entry.ends || firing.count(labels) != 0) continue;
      const auto it = resolved_at.find(labels);
      entry.ends = it == resolved_at.end() ? wall_now : WallTime(clock(), it->second);
      entry.delivered = false;
      ++entry.version;
    }
    for (const auto& [labels, a] : firing) {
      Entry& entry = alerts_[labels];
      const double starts = WallTime(clock(), a->fired_at);
      if (entry.version == 0 || entry.ends || entry.annotations != a->annotations) {
        entry.delivered = false;
        ++entry.version;
      }
      entry.annotations = a->annotations;
      entry.starts = starts;
      entry.ends.reset();
    }
    Wake();
  }

 protected:
  std::optional<std::string> Prepare(TimePoint now, std::optional<TimePoint>* wake) override {
    bool any_firing = false;
    bool undelivered = false;
    for (const auto& [labels, entry] : alerts_) {
      any_firing |= !entry.ends.has_value();
      undelivered |= !entry.delivered;
    }
    const bool resend_due = any_firing && (!next_resend_ || now >= *next_resend_);
    if (!undelivered && !resend_due) {
      if (any_firing) *wake = next_resend_;
      return std::nullopt;
    }
    const double wall_now = clock().UnixSeconds();
    const double ends_firing = wall_now + 4.0 * std::chrono::duration<double>(resend_).count();
    json body = json::array();
    sent_.clear();
    for (const auto& [labels, entry] : alerts_) {
      json labels_json = json::object();
      for (const auto& [k, v] : labels) labels_json[k] = v;
      json annotations = json::object();
      for (const auto& [k, v] : entry.annotations) annotations[k] = v;
      body.push_back({{"labels", std::move(labels_json)},
                      {"annotations", std::move(annotations)},
                      {"startsAt", Rfc3339(entry.starts)},
                      {"endsAt", Rfc3339(entry.ends ? *entry.ends : ends_firing)},
                      {"generatorURL", generator_url_}});
      sent_.emplace(labels, entry.version);
    }
    return body.dump();
  }

  void Done(bool ok, TimePoint now) override {
    if (!ok) return;
    for (const auto& [labels, version] : sent_) {
      const auto it = alerts_.find(labels);
      if (it == alerts_.end() || it->second.version != version) continue;
      if (it->second.ends) {
        alerts_.erase(it);
      } else {
        it->second.delivered = true;
      }
    }
    sent_.clear();
    next_resend_ = now + resend_;
  }

  size_t Waiting() const override {
    return static_cast<size_t>(std::count_if(alerts_.begin(), alerts_.end(),
                                             [](const auto& e) { return !e.second.delivered; }));
  }

 private:
  struct Entry {
    alerts::Labels annotations;
    double starts = 0.0;         // Unix seconds.
    std::optional<double> ends;  // Set once resolved (Unix seconds).
    bool delivered = false;      // The current version has been accepted by Alertmanager.
    uint64_t version = 0;        // Bumped on every change that must be delivered.
  };

  const Duration resend_;
  const std::string generator_url_;
  // Guarded by mu_: firing alerts and undelivered resolutions, keyed by labels.
  std::map<alerts::Labels, Entry> alerts_;
  std::map<alerts::Labels, uint64_t> sent_;  // Versions in the in-flight attempt.
  std::optional<TimePoint> next_resend_;
};

// JSON webhook: one POST per transition to firing or resolved, in order, each retried until
// delivered; at most max_queue waiting, the oldest dropped first.
class WebhookChannel final : public Channel {
 public:
  WebhookChannel(const NotifierConfig& config, std::string generator_url,
                 metrics::Registry& registry, const Clock* clock)
      : Channel("webhook", config.webhook_url, config.timeout, registry, clock),
        max_queue_(std::max<size_t>(config.max_queue, 1)),
        generator_url_(std::move(generator_url)) {}
  ~WebhookChannel() override { Stop(); }

  void Update(const std::vector<alerts::Transition>& transitions) {
    std::lock_guard lock(mu_);
    for (const alerts::Transition& t : transitions) {
      const bool fired = t.to == alerts::State::kFiring;
      const bool resolved = t.from == alerts::State::kFiring && t.to == alerts::State::kInactive;
      if (!fired && !resolved) continue;
      const char* status = fired ? "firing" : "resolved";
      json labels = json::object();
      for (const auto& [k, v] : t.alert.labels) labels[k] = v;
      json annotations = json::object();
      for (const auto& [k, v] : t.alert.annotations) annotations[k] = v;
      json alert = {
          {"status", status},
          {"labels", std::move(labels)},
          {"annotations", std::move(annotations)},
          {"startsAt", Rfc3339(WallTime(clock(), t.alert.fired_at))},
          {"endsAt",
           resolved ? Rfc3339(WallTime(clock(), t.at)) : std::string("0001-01-01T00:00:00Z")},
          {"generatorURL", generator_url_},
          {"value", std::isfinite(t.alert.last_value) ? json(t.alert.last_value) : json(nullptr)}};
      json body = {{"status", status}, {"alerts", json::array({std::move(alert)})}};
      queue_.push_back({next_id_++, body.dump()});
      while (queue_.size() > max_queue_) {
        queue_.pop_front();
        CountDropped();
      }
    }
    Wake();
  }

 protected:
  std::optional<std::string> Prepare(TimePoint, std::optional<TimePoint>*) override {
    if (queue_.empty()) return std::nullopt;
    in_flight_ = queue_.front().id;
    return queue_.front().body;
  }

  void Done(bool ok, TimePoint) override {
    if (ok && !queue_.empty() && queue_.front().id == in_flight_) queue_.pop_front();
  }

  size_t Waiting() const override { return queue_.size(); }

 private:
  struct Item {
    uint64_t id;
    std::string body;
  };

  const size_t max_queue_;
  const std::string generator_url_;
  std::deque<Item> queue_;  // Guarded by mu_.
  uint64_t next_id_ = 0;    // Guarded by mu_.
  uint64_t in_flight_ = 0;  // Guarded by mu_.
};

class NotifierImpl final : public Notifier {
 public:
  NotifierImpl(const NotifierConfig& config, const std::string& listen, metrics::Registry& registry,
               const Clock* clock) {
    const std::string generator =
        StripTrailingSlash(config.external_url.empty() ? "http://" + listen : config.external_url) +
        "/v1/alerts";
    if (!config.alertmanager_url.empty()) {
      alertmanager_ = std::make_unique<AlertmanagerChannel>(config, generator, registry, clock);
      alertmanager_->Start();
    }
    if (!config.webhook_url.empty()) {
      webhook_ = std::make_unique<WebhookChannel>(config, generator, registry, clock);
      webhook_->Start();
    }
  }

  void Update(const std::vector<alerts::AlertInstance>& active,
              const std::vector<alerts::Transition>& transitions) override {
    if (alertmanager_) alertmanager_->Update(active, transitions);
    if (webhook_) webhook_->Update(transitions);
  }

 private:
  std::unique_ptr<AlertmanagerChannel> alertmanager_;
  std::unique_ptr<WebhookChannel> webhook_;
};

}  // namespace

std::unique_ptr<Notifier> Notifier::Create(const NotifierConfig& config, const std::string& listen,
                                           metrics::Registry& registry, const Clock* clock) {
  if (config.alertmanager_url.empty() && config.webhook_url.empty()) return nullptr;
  return std::make_unique<NotifierImpl>(config, listen, registry, clock);
}

}  // namespace modelmon::server
