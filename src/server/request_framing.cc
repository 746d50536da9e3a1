#include "server/request_framing.h"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <cstdint>

namespace modelmon::server {

namespace http = boost::beast::http;

namespace {

bool IsOws(char c) { return c == ' ' || c == '\t'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsOws(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsOws(s.back())) s.remove_suffix(1);
  return s;
}

// Appends the comma-separated elements of every `field` line, trimmed (empty elements kept, so a
// stray comma is visible to the caller).
void ListElements(const RequestHead& head, http::field field, std::vector<std::string_view>* out) {
  for (auto it = head.find(field); it != head.end() && it->name() == field; ++it) {
    std::string_view value(it->value().data(), it->value().size());
    for (;;) {
      const size_t comma = value.find(',');
      out->push_back(Trim(value.substr(0, comma)));
      if (comma == std::string_view::npos) break;
      value.remove_prefix(comma + 1);
    }
  }
}

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

HeadRejection Reject(int status, std::string message) { return {status, std::move(message)}; }

}  // namespace

void ConfigureRequestParser(RequestParser& parser, size_t max_header_bytes, size_t max_body_bytes) {
  parser.header_limit(static_cast<std::uint32_t>(max_header_bytes));
  parser.body_limit(max_body_bytes);
}

std::optional<HeadRejection> CheckRequestHead(const RequestHead& head) {
  const size_t hosts = head.count(http::field::host);
  if (hosts > 1) return Reject(400, "more than one Host header");
  if (hosts == 0 && head.version() >= 11)
    return Reject(400, "an HTTP/1.1 request needs a Host header");

  const size_t lengths = head.count(http::field::content_length);
  if (head.count(http::field::transfer_encoding) > 0) {
    if (head.version() < 11) return Reject(400, "Transfer-Encoding in an HTTP/1.0 request");
    if (lengths > 0) return Reject(400, "both Transfer-Encoding and Content-Length");
    std::vector<std::string_view> codings;
    ListElements(head, http::field::transfer_encoding, &codings);
    if (!IEquals(codings.back(), "chunked")) {
      return Reject(400, "Transfer-Encoding must end with chunked");
    }
    if (codings.size() > 1) {
      for (size_t i = 0; i + 1 < codings.size(); ++i) {
        if (IEquals(codings[i], "chunked")) {
          return Reject(400, "Transfer-Encoding applies chunked more than once");
        }
      }
      return Reject(501, "only the chunked transfer coding is supported");
    }
    return std::nullopt;
  }
  if (lengths > 1) return Reject(400, "more than one Content-Length header");
  if (lengths == 1) {
    const auto value = head[http::field::content_length];
    if (value.empty()) return Reject(400, "empty Content-Length");
    for (char c : value) {
      if (c < '0' || c > '9') return Reject(400, "Content-Length must be one decimal number");
    }
  }
  return std::nullopt;
}

FramedStream FrameRequests(std::string_view bytes, size_t max_header_bytes, size_t max_body_bytes) {
  FramedStream out;
  size_t pos = 0;
  // The status a parser error maps to, as in Session::OnReadError.
  auto status_of = [](const boost::beast::error_code& ec) {
    if (ec == http::error::body_limit) return 413;
    if (ec == http::error::header_limit) return 431;
    return 400;
  };
  while (pos < bytes.size()) {
    RequestParser parser;
    ConfigureRequestParser(parser, max_header_bytes, max_body_bytes);
    parser.eager(false);
    boost::beast::error_code ec;
    while (!parser.is_header_done()) {
      const size_t n = parser.put(boost::asio::buffer(bytes.data() + pos, bytes.size() - pos), ec);
      pos += n;
      if (ec == http::error::need_more || (!ec && n == 0)) {
        out.incomplete = true;
        return out;
      }
      if (ec) {
        out.error_status = status_of(ec);
        return out;
      }
    }
    if (auto rejection = CheckRequestHead(parser.get())) {
      out.error_status = rejection->status;
      return out;
    }
    while (!parser.is_done()) {
      if (pos == bytes.size()) {
        out.incomplete = true;
        return out;
      }
      const size_t n = parser.put(boost::asio::buffer(bytes.data() + pos, bytes.size() - pos), ec);
      pos += n;
      if (ec == http::error::need_more) {
        // n == 0: what is left (part of a chunk header, say) cannot be parsed without more bytes.
        if (pos == bytes.size() || n == 0) {
          out.incomplete = true;
          return out;
        }
        ec = {};
        continue;
      }
      if (ec) {
        out.error_status = status_of(ec);
        return out;
      }
    }
    const auto& req = parser.get();
    out.requests.push_back(
        {std::string(req.method_string()), std::string(req.target()), req.body()});
  }
  return out;
}

}  // namespace modelmon::server
