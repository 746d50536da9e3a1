#ifndef MODELMON_SERVER_REQUEST_FRAMING_H_
#define MODELMON_SERVER_REQUEST_FRAMING_H_

// Request framing rules shared by the connection code (http_server.cc) and the framing
// differential test. Boost.Beast types appear here only because this header is internal to the
// server layer.
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace modelmon::server {

using RequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;
using RequestHead = boost::beast::http::request_header<boost::beast::http::fields>;

// Why a request head is refused: an HTTP status (400 or 501) and a message for the JSON error.
// After any rejection the connection must close: the rest of its bytes cannot be framed.
struct HeadRejection {
  int status = 400;
  std::string message;
};

// Applies the server's limits to a fresh parser (header bytes, body bytes). Every request parser
// the server uses is configured here.
void ConfigureRequestParser(RequestParser& parser, size_t max_header_bytes, size_t max_body_bytes);

// Checks a parsed request head against RFC 9112 beyond what the parser enforces, so that the
// framing the server acts on is the only framing the bytes allow:
//   - HTTP/1.1 needs exactly one Host field (§3.2); more than one Host is refused in any version;
//   - Transfer-Encoding: refused in HTTP/1.0 and beside Content-Length (400); the codings must be
//     exactly `chunked` (a final coding other than chunked: 400, §6.3; any other coding: 501,
//     none is implemented; chunked twice: 400);
//   - Content-Length: one field with one decimal value (a list or a repeat: 400).
// nullopt when the head is acceptable. Never throws.
std::optional<HeadRejection> CheckRequestHead(const RequestHead& head);

// One request as the server would execute it.
struct FramedRequest {
  std::string method;
  std::string target;
  std::string body;
};

// What a connection would do with `bytes`: the requests it would execute in order, then either
// the end of the bytes (`incomplete` when a request was cut short) or a refusal with its status
// (400, 413, 431 or 501), after which nothing more is read. Uses the same parser configuration and
// head checks as the server's connections; for tests. Never throws.
struct FramedStream {
  std::vector<FramedRequest> requests;
  bool incomplete = false;
  int error_status = 0;  // 0: no refusal.
};
FramedStream FrameRequests(std::string_view bytes, size_t max_header_bytes, size_t max_body_bytes);

}  // namespace modelmon::server

#endif  // MODELMON_SERVER_REQUEST_FRAMING_H_
