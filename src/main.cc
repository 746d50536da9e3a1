// modelmon command line: `modelmon [run] --config FILE`, `modelmon check-config FILE`,
// `modelmon demo`. Exit codes: 0 success, 1 runtime failure, 2 invalid configuration or usage.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include "app/logging.h"
#include "modelmon/config.h"
#include "modelmon/daemon.h"
#include "modelmon/demo.h"

namespace {

constexpr int kExitRuntime = 1;
constexpr int kExitConfig = 2;

int ExitCode(const modelmon::StartError& error) {
  return error.kind == modelmon::StartError::Kind::kConfig ? kExitConfig : kExitRuntime;
}

std::optional<modelmon::Config> Load(const std::string& path) {
  modelmon::ConfigResult result = modelmon::LoadConfigFile(path);
  if (!result.ok()) {
    std::fprintf(stderr, "modelmon: invalid configuration %s:\n", path.c_str());
    for (const auto& e : result.errors) std::fprintf(stderr, "  %s\n", e.c_str());
    return std::nullopt;
  }
  return std::move(*result.config);
}

// Writes `port` as decimal plus newline to path.tmp, then renames it to path, so that a reader
// sees either no file or the whole port. False with *error set when either step fails.
bool WritePortFile(const std::string& path, uint16_t port, std::string* error) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << '\n';
    out.close();
    if (!out) {
      *error = "--port-file: cannot write " + tmp;
      return false;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    *error = "--port-file: cannot rename " + tmp + " to " + path + ": " + ec.message();
    return false;
  }
  return true;
}

int Run(const std::string& config_path, const std::string& log_format, const std::string& listen,
        const std::string& port_file, bool bench_discard_endpoint) {
  auto config = Load(config_path);
  if (!config) return kExitConfig;
  config->server.bench_discard_endpoint = bench_discard_endpoint;
  if (!log_format.empty()) {
    config->log_format =
        log_format == "json" ? modelmon::LogFormat::kJson : modelmon::LogFormat::kText;
  }
  if (!listen.empty()) {
    // Same syntax as server.listen; validated by loading it as a config fragment.
    auto colon = listen.rfind(':');
    if (colon == std::string::npos) {
      std::fprintf(stderr, "modelmon: --listen: expected host:port, got \"%s\"\n", listen.c_str());
      return kExitConfig;
    }
    std::string host = listen.substr(0, colon);
    // "[::1]:8080" as in server.listen; the host is resolved by Daemon::Create like the config's.
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    config->server.listen_address = host;
    try {
      const int port = std::stoi(listen.substr(colon + 1));
      if (port < 0 || port > 65535) throw std::out_of_range("port");
      config->server.port = static_cast<uint16_t>(port);
    } catch (const std::exception&) {
      std::fprintf(stderr, "modelmon: --listen: invalid port in \"%s\"\n", listen.c_str());
      return kExitConfig;
    }
  }
  modelmon::ConfigureLogging(config->log_format, config->log_level);
  modelmon::StartError start_error;
  auto daemon = modelmon::Daemon::Create(*config, &start_error);
  if (!daemon) {
    std::fprintf(stderr, "modelmon: %s\n", start_error.message.c_str());
    return ExitCode(start_error);
  }
  // Create() has bound the listener: the port is final and connections queue until Run().
  std::string error;
  if (!port_file.empty() && !WritePortFile(port_file, daemon->port(), &error)) {
    std::fprintf(stderr, "modelmon: %s\n", error.c_str());
    return kExitRuntime;
  }
  return daemon->Run(/*handle_signals=*/true);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"modelmon: drift, performance and data-quality monitoring for ML models"};
  app.require_subcommand(0, 1);
  std::string config_path = "config/modelmon.yaml";
  std::string log_format;
  std::string listen;
  app.add_option("-c,--config", config_path, "configuration file")->capture_default_str();
  app.add_option("--log-format", log_format, "text or json (overrides log.format)")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_option("--listen", listen, "host:port (overrides server.listen)");
  std::string port_file;
  app.add_option("--port-file", port_file, "write the bound port here once listening");

  auto* run = app.add_subcommand("run", "run the daemon (the default)");
  run->add_option("-c,--config", config_path, "configuration file");
  run->add_option("--log-format", log_format, "text or json")
      ->check(CLI::IsMember({"text", "json"}));
  run->add_option("--listen", listen, "host:port (overrides server.listen)");
  run->add_option("--port-file", port_file, "write the bound port here once listening");
  // Hidden (no description): POST /v1/discard for the load tests in bench/run_load.sh.
  bool bench_discard_endpoint = false;
  run->add_flag("--bench-discard-endpoint", bench_discard_endpoint)->group("");

  std::string check_path;
  auto* check = app.add_subcommand("check-config", "validate a configuration file and exit");
  check->add_option("file", check_path, "configuration file")->required();

  modelmon::DemoOptions demo_options;
  auto* demo = app.add_subcommand("demo", "send synthetic traffic with drift to a running daemon");
  demo->add_option("--host", demo_options.host, "daemon host")->capture_default_str();
  demo->add_option("--port", demo_options.port, "daemon port")->capture_default_str();
  demo->add_option("--rate", demo_options.events_per_second, "events per second")
      ->check(CLI::Range(1.0, 1e6))
      ->capture_default_str();
  demo->add_option("--drift-after", demo_options.drift_after_seconds, "seconds before drift")
      ->capture_default_str();
  demo->add_option("--duration", demo_options.duration_seconds, "seconds to run (0: forever)")
      ->capture_default_str();
  demo->add_option("--seed", demo_options.seed, "random seed")->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : kExitConfig;
  }

  if (*check) {
    auto config = Load(check_path);
    if (!config) return kExitConfig;
    // The checks of start-up itself (reference files, TLS files, server.listen), without binding.
    modelmon::StartError error;
    if (!modelmon::Daemon::Check(*config, &error)) {
      std::fprintf(stderr, "modelmon: %s: %s\n", check_path.c_str(), error.message.c_str());
      return ExitCode(error);
    }
    std::printf("%s: OK (%zu model(s))\n", check_path.c_str(), config->models.size());
    return 0;
  }
  if (*demo) {
    modelmon::ConfigureLogging(modelmon::LogFormat::kText, "info");
    return modelmon::RunDemoTraffic(demo_options);
  }
  return Run(config_path, log_format, listen, port_file, bench_discard_endpoint);
}
