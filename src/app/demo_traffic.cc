// clang-format off
#include <utility>  // Must precede Asio's awaitable.hpp under GCC 12 in C++20.
// clang-format on

#include <spdlog/spdlog.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cmath>
#include <deque>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "modelmon/demo.h"

namespace modelmon {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using nlohmann::json;

// A keep-alive HTTP client that reconnects on failure.
class Client {
 public:
  Client(std::string host, uint16_t port) : host_(std::move(host)), port_(port) {}

  // Returns the status code, or 0 when the daemon could not be reached.
  int Post(const std::string& target, const std::string& body, const char* content_type) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      try {
        if (!stream_) Connect();
        http::request<http::string_body> req(http::verb::post, target, 11);
        req.set(http::field::host, host_);
        req.set(http::field::content_type, content_type);
        req.keep_alive(true);
        req.body() = body;
        req.prepare_payload();
        http::write(*stream_, req);
        beast::flat_buffer buffer;
        http::response<http::string_body> res;
        http::read(*stream_, buffer, res);
        if (!res.keep_alive()) stream_.reset();
        return static_cast<int>(res.result_int());
      } catch (const std::exception&) {
        stream_.reset();
      }
    }
    return 0;
  }

 private:
  void Connect() {
    tcp::resolver resolver(ioc_);
    auto results = resolver.resolve(host_, std::to_string(port_));
    stream_.emplace(ioc_);
    stream_->connect(results);
  }

  net::io_context ioc_;
  std::string host_;
  uint16_t port_;
  std::optional<beast::tcp_stream> stream_;
};

template <typename T>
const T& Pick(std::mt19937_64& rng, const std::vector<std::pair<T, double>>& weighted) {
  std::uniform_real_distribution<double> u(0, 1);
  double x = u(rng);
  for (const auto& [value, weight] : weighted) {
    if (x < weight) return value;
    x -= weight;
  }
  return weighted.back().first;
}

}  // namespace

int RunDemoTraffic(const DemoOptions& options) {
  std::mt19937_64 rng(options.seed);
  Client client(options.host, options.port);
  const std::vector<std::pair<std::string, double>> countries = {
      {"DE", 0.40}, {"FR", 0.25}, {"ES", 0.15}, {"IT", 0.15}, {"NL", 0.05}};
  const std::vector<std::pair<std::string, double>> drifted_countries = {
      {"DE", 0.20}, {"FR", 0.15}, {"ES", 0.15}, {"IT", 0.10}, {"NL", 0.05}, {"BR", 0.35}};
  const std::vector<std::pair<std::string, double>> devices = {
      {"mobile", 0.60}, {"desktop", 0.35}, {"tablet", 0.05}};
  std::normal_distribution<double> normal(0, 1);
  std::uniform_real_distribution<double> uniform(0, 1);
  struct PendingLabel {
    std::chrono::steady_clock::time_point due;
    std::string id;
    int label;
  };
  std::deque<PendingLabel> pending;

  const auto start = std::chrono::steady_clock::now();
  const auto interval =
      std::chrono::duration<double>(options.batch_size / options.events_per_second);
  auto next = start;
  uint64_t sequence = 0;
  auto last_success = start;
  bool announced_drift = false;
  spdlog::info("demo: sending {} events/s to {}:{}; drift starts after {} s",
               options.events_per_second, options.host, options.port, options.drift_after_seconds);
  while (true) {
    const auto now = std::chrono::steady_clock::now();
    const double elapsed = std::chrono::duration<double>(now - start).count();
    if (options.duration_seconds > 0 && elapsed >= options.duration_seconds) break;
    const bool drift = elapsed >= options.drift_after_seconds;
    if (drift && !announced_drift) {
      spdlog::info("demo: drift starts now (amount grows, country mix changes, BR appears)");
      announced_drift = true;
    }
    std::string batch;
    for (int i = 0; i < options.batch_size; ++i) {
      const double amount = std::exp((drift ? 4.6 : 4.0) + 0.8 * normal(rng));
      const double age = std::clamp(40 + 12 * normal(rng), 18.0, 90.0);
      const double income = std::max(5000.0, 55000 + 15000 * normal(rng));
      const std::string& country = Pick(rng, drift ? drifted_countries : countries);
      const std::string& device = Pick(rng, devices);
      const double logit =
          -3.0 + 0.012 * amount - 0.02 * (age - 40) + (device == "tablet" ? 0.5 : 0);
      const double score = 1 / (1 + std::exp(-logit));
      const int label = uniform(rng) < score ? 1 : 0;
      const std::string id = "demo-" + std::to_string(sequence++);
      json ev{{"model", "credit_risk"},
              {"model_version", (sequence % 2) ? "v1" : "v2"},
              {"id", id},
              {"timestamp",
               std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
                   .count()},
              {"features",
               {{"amount", std::round(amount * 100) / 100},
                {"age", uniform(rng) < 0.02 ? json(nullptr) : json(std::round(age))},
                {"income", std::round(income)},
                {"country", country},
                {"device", device}}},
              {"prediction", score >= 0.5 ? 1 : 0},
              {"score", std::round(score * 1e4) / 1e4},
              {"latency_ms", 2 + 3 * uniform(rng)}};
      batch += ev.dump();
      batch += '\n';
      if (uniform(rng) < 0.8) {
        const auto delay = std::chrono::milliseconds(static_cast<int>(2000 + 8000 * uniform(rng)));
        pending.push_back({now + delay, id, label});
      }
    }
    const int status = client.Post("/v1/predictions", batch, "application/x-ndjson");
    std::string labels;
    while (!pending.empty() && pending.front().due <= now) {
      labels += json{{"model", "credit_risk"},
                     {"id", pending.front().id},
                     {"label", pending.front().label}}
                    .dump();
      labels += '\n';
      pending.pop_front();
    }
    if (!labels.empty()) client.Post("/v1/ground-truth", labels, "application/x-ndjson");
    if (status != 0) {
      last_success = now;
    } else if (now - last_success > std::chrono::seconds(30)) {
      spdlog::error("demo: cannot reach modelmon at {}:{} for 30 s; giving up", options.host,
                    options.port);
      return 1;
    }
    next += std::chrono::duration_cast<std::chrono::steady_clock::duration>(interval);
    std::this_thread::sleep_until(next);
  }
  return 0;
}

}  // namespace modelmon
