// clang-format off
#include <utility>  // Must precede Asio's awaitable.hpp under GCC 12 in C++20.
// clang-format on

#include "modelmon/daemon.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "common/thread_annotations.h"
#include "server/graphite.h"
#include "server/http_server.h"
#include "server/service.h"

namespace modelmon {
namespace {

namespace net = boost::asio;

class DaemonImpl final : public Daemon {
 public:
  DaemonImpl(const Config& config, std::unique_ptr<server::Service> service, const Clock* clock)
      : config_(config),
        service_(std::move(service)),
        server_(ioc_, config.server, *service_),
        evaluation_timer_(ioc_),
        drain_timer_(ioc_),
        signals_(ioc_) {
    if (!config.graphite.host.empty()) {
      graphite_ = std::make_unique<server::GraphitePusher>(ioc_, config.graphite,
                                                           service_->registry(), clock);
    }
  }

  bool Listen(server::HttpServer::ListenPlan plan, std::string* error) {
    return server_.Listen(std::move(plan), error);
  }
  uint16_t port() const override { return server_.port(); }

  int Run(bool handle_signals) override {
    if (handle_signals) {
      signals_.add(SIGTERM);
      signals_.add(SIGINT);
      signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
        if (ec) return;
        spdlog::info("received {}, shutting down", signal == SIGTERM ? "SIGTERM" : "SIGINT");
        BeginShutdown();
      });
    }
    server_.Start();
    ScheduleEvaluation();
    if (graphite_) graphite_->Start();
    service_->set_ready(true);
    spdlog::info("modelmon listening on {}:{} with {} model(s)", config_.server.listen_address,
                 port(), config_.models.size());
    // Snapshots run on their own thread: encoding and fsync never hold up request handling.
    std::thread snapshots;
    if (service_->snapshots_enabled()) snapshots = std::thread([this] { SnapshotLoop(); });
    std::vector<std::thread> threads;
    for (int i = 1; i < config_.server.threads; ++i) threads.emplace_back([this] { ioc_.run(); });
    ioc_.run();
    for (auto& t : threads) t.join();
    if (snapshots.joinable()) {
      {
        std::lock_guard<std::mutex> lock(snapshot_mu_);
        snapshot_stop_ = true;
      }
      snapshot_cv_.notify_all();
      snapshots.join();
    }
    // A last evaluation so that the final state is consistent with everything accepted, then the
    // last snapshot of that state.
    service_->Evaluate();
    if (!service_->WriteFinalSnapshot()) {
      spdlog::error("modelmon stopped without its final state snapshot");
      return 1;
    }
    spdlog::info("modelmon stopped");
    return 0;
  }

  void Shutdown() override {
    net::post(ioc_, [this] { BeginShutdown(); });
  }

 private:
  void ScheduleEvaluation() {
    evaluation_timer_.expires_after(config_.evaluation_interval);
    evaluation_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec || stopping_) return;
      service_->Evaluate();
      ScheduleEvaluation();
    });
  }

  // Writes a snapshot every state.snapshot_interval until Run() stops it.
  void SnapshotLoop() {
    std::unique_lock<std::mutex> lock(snapshot_mu_);
    while (!snapshot_cv_.wait_for(lock, config_.state.snapshot_interval,
                                  [this] { return snapshot_stop_; })) {
      lock.unlock();
      service_->WriteSnapshot();
      lock.lock();
    }
  }

  // Runs on the io_context. Readiness goes false and the server drains: reads and probes are still
  // served while admitted ingest/admin requests finish; then the listener and every connection
  // close (at server.shutdown_timeout at the latest) and Run() returns.
  void BeginShutdown() {
    if (stopping_.exchange(true)) return;
    service_->set_draining();
    evaluation_timer_.cancel();
    if (graphite_) graphite_->Stop();
    boost::system::error_code ignored;
    signals_.cancel(ignored);
    server_.Drain();
    drain_deadline_ = std::chrono::steady_clock::now() + config_.server.shutdown_timeout;
    WaitForDrain();
  }

  // Polls every 20 ms. Once no admitted request is in flight (or at the deadline) the server stops
  // accepting and closes its connections; those writing a response get kCloseGrace to finish. Once
  // every connection is gone the io_context runs out of work and Run() returns; no handler is ever
  // abandoned, so no session outlives the server.
  void WaitForDrain() {
    const auto now = std::chrono::steady_clock::now();
    if (!closing_) {
      const size_t inflight = server_.inflight_requests();
      if (inflight == 0 || now >= drain_deadline_) {
        if (inflight > 0) {
          spdlog::warn("shutdown timeout: abandoning {} request(s) in flight", inflight);
        }
        closing_ = true;
        close_deadline_ = now + kCloseGrace;
        server_.Shutdown();
      }
    }
    if (closing_) {
      if (server_.active_connections() == 0) return;
      if (now >= close_deadline_) {
        spdlog::warn("closing {} connection(s)", server_.active_connections());
        server_.CloseAll();
        return;
      }
    }
    drain_timer_.expires_after(std::chrono::milliseconds(20));
    drain_timer_.async_wait([this](const boost::system::error_code&) { WaitForDrain(); });
  }

  // How long connections writing a response may take once the listener closed.
  static constexpr std::chrono::seconds kCloseGrace{2};

  const Config config_;
  net::io_context ioc_;
  std::unique_ptr<server::Service> service_;
  server::HttpServer server_;
  net::steady_timer evaluation_timer_;
  net::steady_timer drain_timer_;
  net::signal_set signals_;
  std::unique_ptr<server::GraphitePusher> graphite_;  // Null unless graphite is configured.
  std::atomic<bool> stopping_{false};
  std::mutex snapshot_mu_;
  std::condition_variable snapshot_cv_;
  bool snapshot_stop_ GUARDED_BY(snapshot_mu_) = false;
  std::chrono::steady_clock::time_point drain_deadline_;
  bool closing_ = false;  // Only touched by WaitForDrain(), whose calls are sequential.
  std::chrono::steady_clock::time_point close_deadline_;
};

// Every step of start-up that the configuration decides, shared by Create() and Check() so that
// the two cannot disagree: the listener (TLS files, address) first, as it is cheap, then the
// service (reference files; kServe also restores the snapshot).
bool Prepare(const Config& config, const Clock* clock, server::Service::Mode mode,
             server::HttpServer::ListenPlan* listen, std::unique_ptr<server::Service>* service,
             StartError* error) {
  error->kind = StartError::Kind::kConfig;
  if (!server::HttpServer::PrepareListen(config.server, listen, &error->message)) return false;
  *service = server::Service::Create(config, clock, &error->message, mode);
  return *service != nullptr;
}

}  // namespace

std::unique_ptr<Daemon> Daemon::Create(const Config& config, StartError* error,
                                       const Clock* clock) {
  server::HttpServer::ListenPlan listen;
  std::unique_ptr<server::Service> service;
  if (!Prepare(config, clock, server::Service::Mode::kServe, &listen, &service, error)) {
    return nullptr;
  }
  auto daemon = std::make_unique<DaemonImpl>(config, std::move(service), clock);
  if (!daemon->Listen(std::move(listen), &error->message)) {
    error->kind = StartError::Kind::kRuntime;
    return nullptr;
  }
  return daemon;
}

bool Daemon::Check(const Config& config, StartError* error) {
  server::HttpServer::ListenPlan listen;
  std::unique_ptr<server::Service> service;
  return Prepare(config, Clock::Real(), server::Service::Mode::kCheck, &listen, &service, error);
}

}  // namespace modelmon
