#include <cctype>
#include <cstdint>
#include <utility>

#include "common/bounded_file.h"
#include "config/sections.h"

namespace modelmon::config {
namespace {

// A token file holds one token; anything larger is not one.
constexpr size_t kMaxTokenFileBytes = size_t{64} << 10;

// A bearer token travels in an Authorization header: a control character (CR and LF would split
// the header) can never be presented by a client, so it is a configuration error.
bool HasControlCharacter(const std::string& token) {
  for (const char ch : token) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7F) return true;
  }
  return false;
}

// File contents are checked when the daemon starts (the server module owns OpenSSL).
void ReadTls(YamlReader& y, const YAML::Node& node, TlsConfig* t) {
  const std::string path = "server.tls";
  if (!node.IsMap()) {
    y.Error(path, "expected a mapping with cert_file and key_file, got " + Describe(node));
    return;
  }
  y.CheckKeys(node, path, {"cert_file", "key_file", "min_version"});
  if (node["cert_file"]) {
    if (auto v = y.String(node["cert_file"], path + ".cert_file")) t->cert_file = *v;
  }
  if (node["key_file"]) {
    if (auto v = y.String(node["key_file"], path + ".key_file")) t->key_file = *v;
  }
  if (t->cert_file.empty() != t->key_file.empty()) {
    y.Error(t->cert_file.empty() ? path + ".cert_file" : path + ".key_file",
            "TLS needs both cert_file and key_file");
  }
  if (node["min_version"]) {
    if (auto v = y.String(node["min_version"], path + ".min_version")) {
      if (*v == "1.2") {
        t->min_version = 12;
      } else if (*v == "1.3") {
        t->min_version = 13;
      } else {
        y.Error(path + ".min_version", "expected \"1.2\" or \"1.3\", got \"" + *v + "\"");
      }
    }
  }
}

// Tokens come inline (usually "${ENV_VAR}") or from a file (Kubernetes secrets); never logged.
void ReadAuth(YamlReader& y, const YAML::Node& node, ServerConfig* s) {
  if (!node.IsMap()) {
    y.Error("server.auth", "expected a mapping of *_token / *_token_file, got " + Describe(node));
    return;
  }
  y.CheckKeys(node, "server.auth",
              {"ingest_token", "ingest_token_file", "admin_token", "admin_token_file", "read_token",
               "read_token_file"});
  const std::pair<const char*, std::string*> scopes[] = {
      {"ingest", &s->ingest_token}, {"admin", &s->admin_token}, {"read", &s->read_token}};
  for (const auto& [scope, out] : scopes) {
    const std::string key = std::string(scope) + "_token";
    const std::string path = "server.auth." + key;
    if (node[key] && node[key + "_file"]) {
      y.Error(path, "set either " + key + " or " + key + "_file, not both");
      continue;
    }
    if (node[key]) {
      if (auto v = y.String(node[key], path)) *out = *v;
    } else if (node[key + "_file"]) {
      auto file = y.String(node[key + "_file"], path + "_file");
      if (!file) continue;
      std::string token;
      std::string error;
      if (ReadBoundedFile(*file, kMaxTokenFileBytes, &token, &error) != FileReadStatus::kOk) {
        y.Error(path + "_file", "cannot read the token: " + error);
        continue;
      }
      while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) {
        token.pop_back();
      }
      *out = token;
    }
    if (!out->empty() && out->size() < 16) {
      y.Error(path, "a token needs at least 16 characters");
    }
    if (HasControlCharacter(*out)) {
      y.Error(path,
              "a token may not contain control characters (CR, LF, tab or any byte below 0x20, "
              "or 0x7F): no client could send it in an Authorization header");
    }
  }
}

}  // namespace

void ReadServer(YamlReader& y, const YAML::Node& node, ServerConfig* s) {
  const std::string path = "server";
  if (!node.IsMap()) {
    y.Error(path, "expected a mapping, got " + Describe(node));
    return;
  }
  y.CheckKeys(node, path,
              {"listen", "threads", "max_body_bytes", "max_header_bytes", "max_batch_events",
               "max_connections", "request_timeout", "header_timeout", "idle_timeout",
               "shutdown_timeout", "auth", "max_inflight_requests", "max_inflight_bytes", "tls"});
  if (node["auth"]) ReadAuth(y, node["auth"], s);
  if (node["tls"]) ReadTls(y, node["tls"], &s->tls);
  if (node["listen"]) {
    auto v = y.String(node["listen"], "server.listen");
    if (v) {
      auto colon = v->rfind(':');
      if (colon == std::string::npos || colon == 0) {
        y.Error("server.listen", "expected host:port such as 0.0.0.0:8080, got \"" + *v + "\"");
      } else {
        std::string host = v->substr(0, colon);
        if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
          host = host.substr(1, host.size() - 2);
        }
        auto port = y.Integer(YAML::Node(v->substr(colon + 1)), "server.listen (port)", 0, 65535);
        if (port) {
          s->listen_address = host;
          s->port = static_cast<uint16_t>(*port);
        }
      }
    }
  }
  if (node["threads"]) {
    if (auto v = y.Integer(node["threads"], "server.threads", 1, 64)) {
      s->threads = static_cast<int>(*v);
    }
  }
  auto size = [&](const char* key, size_t* out, int64_t lo, int64_t hi) {
    if (!node[key]) return;
    if (auto v = y.Integer(node[key], Join(path, key), lo, hi)) *out = static_cast<size_t>(*v);
  };
  size("max_body_bytes", &s->max_body_bytes, 1024, int64_t{1} << 30);
  size("max_header_bytes", &s->max_header_bytes, 1024, 1 << 20);
  size("max_batch_events", &s->max_batch_events, 1, 1000000);
  size("max_connections", &s->max_connections, 1, 100000);
  size("max_inflight_requests", &s->max_inflight_requests, 1, 100000);
  size("max_inflight_bytes", &s->max_inflight_bytes, 1024, int64_t{1} << 40);
  if (s->max_inflight_bytes < s->max_body_bytes) {
    y.Error(Join(path, "max_inflight_bytes"),
            "must be at least max_body_bytes (" + std::to_string(s->max_body_bytes) +
                "), or no body of the largest size could ever be admitted");
  }
  auto duration = [&](const char* key, std::chrono::milliseconds* out) {
    if (!node[key]) return;
    if (auto v = y.Duration(node[key], Join(path, key))) *out = *v;
  };
  duration("request_timeout", &s->request_timeout);
  duration("header_timeout", &s->header_timeout);
  duration("idle_timeout", &s->idle_timeout);
  duration("shutdown_timeout", &s->shutdown_timeout);
}

}  // namespace modelmon::config
