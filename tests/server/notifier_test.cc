// clang-format off
#include <utility>  // Must precede Asio's awaitable.hpp under GCC 12 in C++20.
// clang-format on

#include "server/notifier.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "common/fake_clock.h"

namespace modelmon::server {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using json = nlohmann::json;
using std::chrono::milliseconds;
using testing::FakeClock;

// Guards every wait on the notifier's worker, so that a broken notifier fails instead of hanging.
constexpr std::chrono::seconds kGuard{20};

// A loopback HTTP/1.1 server on an ephemeral port that records every request (with the fake time
// at which it arrived) and answers each with a scripted status. Thread-safe.
class TestServer {
 public:
  struct Request {
    std::string target;
    std::string content_type;
    json body;
    std::chrono::steady_clock::time_point at;
  };

  explicit TestServer(const FakeClock* clock)
      : clock_(clock), acceptor_(ioc_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)) {
    thread_ = std::thread([this] { Serve(); });
  }

  ~TestServer() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    net::io_context ioc;
    tcp::socket wake(ioc);
    beast::error_code ec;
    wake.connect(acceptor_.local_endpoint(), ec);  // Unblocks accept().
    thread_.join();
  }

  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
  }

  // The next `count` requests are answered with `status`; later ones with 200.
  void FailNext(int count, unsigned status = 503) {
    std::lock_guard lock(mu_);
    for (int i = 0; i < count; ++i) statuses_.push_back(status);
  }

  // Requests are read but never answered until the server is destroyed.
  void Hang() {
    std::lock_guard lock(mu_);
    hang_ = true;
  }

  // Waits until at least n requests have been answered; returns all requests so far.
  std::vector<Request> WaitFor(size_t n) {
    std::unique_lock lock(mu_);
    const bool ok = cv_.wait_for(lock, kGuard, [&] { return answered_ >= n; });
    EXPECT_TRUE(ok) << "expected " << n << " requests, got " << answered_;
    return requests_;
  }

  std::vector<Request> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  void Serve() {
    for (;;) {
      tcp::socket socket(ioc_);
      beast::error_code ec;
      acceptor_.accept(socket, ec);
      {
        std::lock_guard lock(mu_);
        if (stop_) return;
      }
      if (ec) continue;
      beast::flat_buffer buffer;
      http::request<http::string_body> req;
      http::read(socket, buffer, req, ec);
      if (ec) continue;
      unsigned status = 200;
      {
        std::unique_lock lock(mu_);
        requests_.push_back({std::string(req.target()), std::string(req[http::field::content_type]),
                             json::parse(req.body(), nullptr, false), clock_->Now()});
        if (hang_) {
          cv_.wait(lock, [&] { return stop_; });
          return;
        }
        if (!statuses_.empty()) {
          status = statuses_.front();
          statuses_.pop_front();
        }
      }
      http::response<http::string_body> res{static_cast<http::status>(status), 11};
      res.set(http::field::connection, "close");
      res.body() = "{}";
      res.prepare_payload();
      http::write(socket, res, ec);
      socket.shutdown(tcp::socket::shutdown_both, ec);
      {
        std::lock_guard lock(mu_);
        ++answered_;
      }
      cv_.notify_all();
    }
  }

  const FakeClock* clock_;
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool hang_ = false;
  std::deque<unsigned> statuses_;
  std::vector<Request> requests_;
  size_t answered_ = 0;
  std::thread thread_;
};

// RFC 3339 UTC with milliseconds via the C++20 calendar, independently of the notifier.
std::string ExpectedTimestamp(std::chrono::milliseconds since_epoch) {
  using namespace std::chrono;
  const sys_days day = floor<days>(sys_time<milliseconds>(since_epoch));
  const year_month_day ymd(day);
  const hh_mm_ss<milliseconds> tod(since_epoch - day.time_since_epoch());
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<long long>(tod.hours().count()),
                static_cast<long long>(tod.minutes().count()),
                static_cast<long long>(tod.seconds().count()),
                static_cast<long long>(tod.subseconds().count()));
  return buf;
}

// The wall time the fake clock shows at monotonic instant t (FakeClock: 1.8e9 s + t).
std::string WallAt(std::chrono::steady_clock::time_point t) {
  return ExpectedTimestamp(milliseconds(1'800'000'000'000) +
                           std::chrono::duration_cast<milliseconds>(t.time_since_epoch()));
}

alerts::AlertInstance Alert(const std::string& feature, alerts::State state,
                            std::chrono::steady_clock::time_point fired_at) {
  alerts::AlertInstance a;
  a.rule = "FeatureDrift";
  a.labels = {{"alertname", "FeatureDrift"},
              {"model", "fraud"},
              {"feature", feature},
              {"severity", "warning"}};
  a.annotations = {{"summary", "KS drift on " + feature}};
  a.state = state;
  a.active_since = fired_at;
  if (state == alerts::State::kFiring) a.fired_at = fired_at;
  a.last_value = 0.001;
  return a;
}

alerts::Transition Move(const alerts::AlertInstance& a, alerts::State from, alerts::State to,
                        std::chrono::steady_clock::time_point at) {
  alerts::Transition t;
  t.alert = a;
  t.alert.state = to;
  t.from = from;
  t.to = to;
  t.at = at;
  return t;
}

// The value of one series in the registry's exposition; -1 when absent.
double Sample(const metrics::Registry& registry, const std::string& series) {
  const std::string text = registry.Serialize();
  const size_t pos = text.find("\n" + series + " ");
  if (pos == std::string::npos) return -1;
  return std::stod(text.substr(pos + series.size() + 2));
}

std::string Counter(const std::string& notifier, const std::string& outcome) {
  return "modelmon_notifications_total{notifier=\"" + notifier + "\",outcome=\"" + outcome + "\"}";
}

// Waits until the series reaches at least `value` (the worker updates it after each attempt).
void WaitForSample(const metrics::Registry& registry, const std::string& series, double value) {
  const auto deadline = std::chrono::steady_clock::now() + kGuard;
  while (Sample(registry, series) < value) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << series << " never reached " << value;
    std::this_thread::yield();
  }
}

class NotifierTest : public ::testing::Test {
 protected:
  NotifierConfig AlertmanagerConfig() const {
    NotifierConfig c;
    c.alertmanager_url = server_.url();
    c.resend_interval = milliseconds(60000);
    c.timeout = milliseconds(5000);
    return c;
  }

  FakeClock clock_;
  TestServer server_{&clock_};
  metrics::Registry registry_;
};

TEST_F(NotifierTest, NothingConfiguredCreatesNoNotifier) {
  EXPECT_EQ(Notifier::Create(NotifierConfig{}, "127.0.0.1:9100", registry_, &clock_), nullptr);
}

TEST_F(NotifierTest, FiringAlertIsPostedWithPrometheusFields) {
  auto notifier = Notifier::Create(AlertmanagerConfig(), "127.0.0.1:9100", registry_, &clock_);
  ASSERT_NE(notifier, nullptr);
  const auto fired = clock_.Now();
  clock_.Advance(milliseconds(2500));
  const auto pending = Alert("b", alerts::State::kPending, clock_.Now());
  const auto firing = Alert("a", alerts::State::kFiring, fired);
  notifier->Update({firing, pending}, {Move(pending, alerts::State::kInactive,
                                            alerts::State::kPending, clock_.Now())});

  const auto requests = server_.WaitFor(1);
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].target, "/api/v2/alerts");
  EXPECT_EQ(requests[0].content_type, "application/json");
  const json& body = requests[0].body;
  ASSERT_TRUE(body.is_array());
  ASSERT_EQ(body.size(), 1u);  // The pending alert is not sent.
  EXPECT_EQ(body[0]["labels"], json({{"alertname", "FeatureDrift"},
                                     {"model", "fraud"},
                                     {"feature", "a"},
                                     {"severity", "warning"}}));
  EXPECT_EQ(body[0]["annotations"], json({{"summary", "KS drift on a"}}));
  EXPECT_EQ(body[0]["startsAt"], WallAt(fired));
  // Prometheus's rule: endsAt = now + 4 x resend interval.
  EXPECT_EQ(body[0]["endsAt"], WallAt(clock_.Now() + milliseconds(4 * 60000)));
  EXPECT_EQ(body[0]["generatorURL"], "http://127.0.0.1:9100/v1/alerts");
  WaitForSample(registry_, Counter("alertmanager", "success"), 1);
  EXPECT_EQ(Sample(registry_, Counter("alertmanager", "failure")), 0);
  EXPECT_EQ(Sample(registry_, "modelmon_notification_queue_length{notifier=\"alertmanager\"}"), 0);
}

TEST_F(NotifierTest, ExternalUrlIsTheGeneratorUrl) {
  NotifierConfig config = AlertmanagerConfig();
  config.alertmanager_url += "/";
  config.external_url = "http://modelmon.example:8080/";
  auto notifier = Notifier::Create(config, "127.0.0.1:9100", registry_, &clock_);
  notifier->Update({Alert("a", alerts::State::kFiring, clock_.Now())}, {});
  const auto requests = server_.WaitFor(1);
  EXPECT_EQ(requests[0].target, "/api/v2/alerts");
  EXPECT_EQ(requests[0].body[0]["generatorURL"], "http://modelmon.example:8080/v1/alerts");
}

TEST_F(NotifierTest, FiringAlertsAreResentEveryResendInterval) {
  NotifierConfig config = AlertmanagerConfig();
  config.resend_interval = milliseconds(1000);
  auto notifier = Notifier::Create(config, "127.0.0.1:9100", registry_, &clock_);
  const auto firing = Alert("a", alerts::State::kFiring, clock_.Now());
  notifier->Update({firing}, {});
  const auto first = server_.WaitFor(1);
  WaitForSample(registry_, Counter("alertmanager", "success"), 1);

  // Rounds before the interval has elapsed send nothing new; the one at the interval re-sends.
  clock_.Advance(milliseconds(999));
  notifier->Update({firing}, {});
  clock_.Advance(milliseconds(1));
  notifier->Update({firing}, {});
  const auto requests = server_.WaitFor(2);
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].at - first[0].at, milliseconds(1000));
  EXPECT_EQ(requests[1].body, json::array({{{"labels", first[0].body[0]["labels"]},
                                            {"annotations", first[0].body[0]["annotations"]},
                                            {"startsAt", first[0].body[0]["startsAt"]},
                                            {"endsAt", WallAt(requests[1].at + milliseconds(4000))},
                                            {"generatorURL", first[0].body[0]["generatorURL"]}}}));
}

TEST_F(NotifierTest, ResolutionIsSentOnceWithEndsAtAtTheTransition) {
  NotifierConfig config = AlertmanagerConfig();
  config.resend_interval = milliseconds(1000);
  auto notifier = Notifier::Create(config, "127.0.0.1:9100", registry_, &clock_);
  const auto a = Alert("a", alerts::State::kFiring, clock_.Now());
  const auto b = Alert("b", alerts::State::kFiring, clock_.Now());
  notifier->Update({a, b}, {});
  server_.WaitFor(1);
  WaitForSample(registry_, Counter("alertmanager", "success"), 1);

  clock_.Advance(milliseconds(300));
  const auto resolved_at = clock_.Now();
  notifier->Update({b}, {Move(a, alerts::State::kFiring, alerts::State::kInactive, resolved_at)});
  auto requests = server_.WaitFor(2);
  ASSERT_EQ(requests.size(), 2u);
  ASSERT_EQ(requests[1].body.size(), 2u);  // Sent at once, with the still-firing alert.
  EXPECT_EQ(requests[1].body[0]["labels"]["feature"], "a");
  EXPECT_EQ(requests[1].body[0]["endsAt"], WallAt(resolved_at));
  EXPECT_EQ(requests[1].body[1]["labels"]["feature"], "b");
  EXPECT_EQ(requests[1].body[1]["endsAt"], WallAt(resolved_at + milliseconds(4000)));
  WaitForSample(registry_, Counter("alertmanager", "success"), 2);

  // The next resend carries only the firing alert.
  clock_.Advance(milliseconds(1000));
  notifier->Update({b}, {});
  requests = server_.WaitFor(3);
  ASSERT_EQ(requests[2].body.size(), 1u);
  EXPECT_EQ(requests[2].body[0]["labels"]["feature"], "b");
}

TEST_F(NotifierTest, OutageRetriesWithExponentialBackoffAndDeliversLatestState) {
  auto notifier = Notifier::Create(AlertmanagerConfig(), "127.0.0.1:9100", registry_, &clock_);
  constexpr int kFailures = 9;
  server_.FailNext(kFailures);
  const auto a = Alert("a", alerts::State::kFiring, clock_.Now());
  notifier->Update({a}, {});
  const std::vector<milliseconds> expected = {
      milliseconds(500),   milliseconds(1000),  milliseconds(2000),
      milliseconds(4000),  milliseconds(8000),  milliseconds(16000),
      milliseconds(30000), milliseconds(30000), milliseconds(30000)};
  for (size_t i = 0; i < expected.size(); ++i) {
    WaitForSample(registry_, Counter("alertmanager", "failure"), static_cast<double>(i + 1));
    EXPECT_EQ(Sample(registry_, "modelmon_notification_queue_length{notifier=\"alertmanager\"}"),
              1);
    // A round just before the retry is due sends nothing; the one at the due time retries.
    clock_.Advance(expected[i] - milliseconds(1));
    if (i + 1 == expected.size()) {
      // The alert resolves during the outage: the retry carries the resolution.
      notifier->Update({},
                       {Move(a, alerts::State::kFiring, alerts::State::kInactive, clock_.Now())});
    } else {
      notifier->Update({a}, {});
    }
    clock_.Advance(milliseconds(1));
    notifier->Update(i + 1 == expected.size() ? std::vector<alerts::AlertInstance>{}
                                              : std::vector<alerts::AlertInstance>{a},
                     {});
    server_.WaitFor(i + 1);
  }
  const auto requests = server_.WaitFor(kFailures + 1);
  ASSERT_EQ(requests.size(), static_cast<size_t>(kFailures + 1));
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(requests[i + 1].at - requests[i].at, expected[i]) << "retry " << i + 1;
  }
  EXPECT_EQ(requests.back().body[0]["endsAt"], WallAt(requests.back().at - milliseconds(1)));
  WaitForSample(registry_, Counter("alertmanager", "success"), 1);
  EXPECT_EQ(Sample(registry_, Counter("alertmanager", "failure")), kFailures);
  EXPECT_EQ(Sample(registry_, "modelmon_notification_queue_length{notifier=\"alertmanager\"}"), 0);

  // Success reset the backoff: the next failure is retried after 500 ms again.
  server_.FailNext(1);
  const auto again = Alert("a", alerts::State::kFiring, clock_.Now());
  notifier->Update({again},
                   {Move(again, alerts::State::kInactive, alerts::State::kFiring, clock_.Now())});
  WaitForSample(registry_, Counter("alertmanager", "failure"), kFailures + 1);
  clock_.Advance(milliseconds(499));
  notifier->Update({again}, {});
  clock_.Advance(milliseconds(1));
  notifier->Update({again}, {});
  const auto after = server_.WaitFor(kFailures + 3);
  ASSERT_EQ(after.size(), static_cast<size_t>(kFailures + 3));
  EXPECT_EQ(after.back().at - after[after.size() - 2].at, milliseconds(500));
}

TEST_F(NotifierTest, UnreachableAlertmanagerCountsFailures) {
  NotifierConfig config = AlertmanagerConfig();
  {
    // A port nobody listens on: bind one, then release it.
    net::io_context ioc;
    tcp::acceptor probe(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
    config.alertmanager_url = "http://127.0.0.1:" + std::to_string(probe.local_endpoint().port());
  }
  auto notifier = Notifier::Create(config, "127.0.0.1:9100", registry_, &clock_);
  notifier->Update({Alert("a", alerts::State::kFiring, clock_.Now())}, {});
  WaitForSample(registry_, Counter("alertmanager", "failure"), 1);
  EXPECT_EQ(Sample(registry_, Counter("alertmanager", "success")), 0);
}

TEST_F(NotifierTest, WebhookPostsOneMessagePerTransitionInOrder) {
  NotifierConfig config;
  config.webhook_url = server_.url() + "/hooks/modelmon";
  auto notifier = Notifier::Create(config, "127.0.0.1:9100", registry_, &clock_);
  const auto start = clock_.Now();
  const auto a = Alert("a", alerts::State::kFiring, start);
  const auto pending = Alert("b", alerts::State::kPending, start);
  notifier->Update({a, pending},
                   {Move(a, alerts::State::kInactive, alerts::State::kFiring, start),
                    Move(pending, alerts::State::kInactive, alerts::State::kPending, start)});
  clock_.Advance(milliseconds(1500));
  notifier->Update(
      {}, {Move(a, alerts::State::kFiring, alerts::State::kInactive, clock_.Now()),
           Move(pending, alerts::State::kPending, alerts::State::kInactive, clock_.Now())});
  const auto requests = server_.WaitFor(2);
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].target, "/hooks/modelmon");
  EXPECT_EQ(requests[0].body["status"], "firing");
  ASSERT_EQ(requests[0].body["alerts"].size(), 1u);
  const json& fired = requests[0].body["alerts"][0];
  EXPECT_EQ(fired["status"], "firing");
  EXPECT_EQ(fired["labels"]["feature"], "a");
  EXPECT_EQ(fired["annotations"], json({{"summary", "KS drift on a"}}));
  EXPECT_EQ(fired["startsAt"], WallAt(start));
  EXPECT_EQ(fired["generatorURL"], "http://127.0.0.1:9100/v1/alerts");
  EXPECT_EQ(requests[1].body["status"], "resolved");
  EXPECT_EQ(requests[1].body["alerts"][0]["startsAt"], WallAt(start));
  EXPECT_EQ(requests[1].body["alerts"][0]["endsAt"], WallAt(start + milliseconds(1500)));
  WaitForSample(registry_, Counter("webhook", "success"), 2);
  EXPECT_EQ(Sample(registry_, "modelmon_notification_queue_length{notifier=\"webhook\"}"), 0);
}

TEST_F(NotifierTest, WebhookRetriesTheSameMessageUntilDelivered) {
  NotifierConfig config;
  config.webhook_url = server_.url() + "/hook";
  auto notifier = Notifier::Create(config, "127.0.0.1:9100", registry_, &clock_);
  server_.FailNext(2, 500);
  const auto a = Alert("a", alerts::State::kFiring, clock_.Now());
  notifier->Update({a}, {Move(a, alerts::State::kInactive, alerts::State::kFiring, clock_.Now())});
  WaitForSample(registry_, Counter("webhook", "failure"), 1);
  clock_.Advance(milliseconds(500));
  notifier->Update({a}, {});
  WaitForSample(registry_, Counter("webhook", "failure"), 2);
  clock_.Advance(milliseconds(1000));
  notifier->Update({a}, {});
  const auto requests = server_.WaitFor(3);
  WaitForSample(registry_, Counter("webhook", "success"), 1);
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[1].body, requests[0].body);
  EXPECT_EQ(requests[2].body, requests[0].body);
  EXPECT_EQ(requests[2].at - requests[1].at, milliseconds(1000));
}

TEST_F(NotifierTest, WebhookQueueDropsTheOldestBeyondMaxQueue) {
  NotifierConfig config;
  config.webhook_url = server_.url() + "/hook";
  config.max_queue = 2;
  auto notifier = Notifier::Create(config, "127.0.0.1:9100", registry_, &clock_);
  std::vector<alerts::AlertInstance> active;
  std::vector<alerts::Transition> transitions;
  for (const char* f : {"a", "b", "c"}) {
    active.push_back(Alert(f, alerts::State::kFiring, clock_.Now()));
    transitions.push_back(
        Move(active.back(), alerts::State::kInactive, alerts::State::kFiring, clock_.Now()));
  }
  notifier->Update(active, transitions);
  const auto requests = server_.WaitFor(2);
  WaitForSample(registry_, Counter("webhook", "success"), 2);
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].body["alerts"][0]["labels"]["feature"], "b");
  EXPECT_EQ(requests[1].body["alerts"][0]["labels"]["feature"], "c");
  EXPECT_EQ(Sample(registry_, Counter("webhook", "dropped")), 1);
}

TEST_F(NotifierTest, BothNotifiersWorkIndependently) {
  NotifierConfig config = AlertmanagerConfig();
  config.webhook_url = server_.url() + "/hook";
  auto notifier = Notifier::Create(config, "127.0.0.1:9100", registry_, &clock_);
  const auto a = Alert("a", alerts::State::kFiring, clock_.Now());
  notifier->Update({a}, {Move(a, alerts::State::kInactive, alerts::State::kFiring, clock_.Now())});
  const auto requests = server_.WaitFor(2);
  ASSERT_EQ(requests.size(), 2u);
  std::vector<std::string> targets = {requests[0].target, requests[1].target};
  std::sort(targets.begin(), targets.end());
  EXPECT_EQ(targets, (std::vector<std::string>{"/api/v2/alerts", "/hook"}));
}

TEST_F(NotifierTest, DestructorReturnsWhileAnAttemptHangs) {
  NotifierConfig config = AlertmanagerConfig();
  config.timeout = milliseconds(200);
  server_.Hang();
  auto notifier = Notifier::Create(config, "127.0.0.1:9100", registry_, &clock_);
  notifier->Update({Alert("a", alerts::State::kFiring, clock_.Now())}, {});
  const auto deadline = std::chrono::steady_clock::now() + kGuard;
  while (server_.requests().empty()) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline);
    std::this_thread::yield();
  }
  notifier.reset();  // Returns once the in-flight attempt times out.
  EXPECT_EQ(Sample(registry_, Counter("alertmanager", "failure")), 1);
}

}  // namespace
}  // namespace modelmon::server
