#ifndef MODELMON_TESTS_SERVER_FRAMING_DIFFERENTIAL_H_
#define MODELMON_TESTS_SERVER_FRAMING_DIFFERENTIAL_H_

// The comparison of the framing differential test and fuzz target: the server's framing
// (server/request_framing.h) against the strict reference (strict_http.h), under small limits so
// that the limits are reached too.

#include <string>

#include "server/request_framing.h"
#include "server/strict_http.h"

namespace modelmon::server {

inline constexpr size_t kDifferentialMaxHeader = 1024;
inline constexpr size_t kDifferentialMaxBody = 64;

inline std::string DescribeFraming(const FramedStream& s) {
  std::string out = "{" + std::to_string(s.requests.size()) + " request(s):";
  for (const auto& r : s.requests) out += " [" + r.method + " " + r.target + " |" + r.body + "|]";
  out += s.incomplete ? " incomplete" : "";
  out += " status " + std::to_string(s.error_status) + "}";
  return out;
}

inline FramedStream FromReference(const strict_http::Stream& s) {
  FramedStream out;
  for (const auto& r : s.requests) out.requests.push_back({r.method, r.target, r.body});
  out.incomplete = s.incomplete;
  out.error_status = s.error_status;
  return out;
}

// Empty when both agree, else both verdicts. They agree when they execute the same requests with
// the same bodies and then both refuse the rest or both wait for more bytes. Two exceptions that
// execute nothing more are tolerated and counted: one side waits where the other refuses at once
// (a request line or chunk extension that can no longer become valid; the waiting side ends at its
// read deadline), counted in *waits; both refuse with different statuses (which limit or syntax
// rule is checked first, e.g. 413 for a chunk size over the body limit before 400 for its line),
// counted in *status_differences.
inline std::string CompareFraming(const std::string& bytes, int* waits = nullptr,
                                  int* status_differences = nullptr) {
  const FramedStream server = FrameRequests(bytes, kDifferentialMaxHeader, kDifferentialMaxBody);
  const FramedStream reference =
      FromReference(strict_http::Parse(bytes, kDifferentialMaxHeader, kDifferentialMaxBody));
  const bool both_refuse = server.error_status != 0 && reference.error_status != 0;
  const bool one_waits = (server.incomplete && reference.error_status != 0) ||
                         (reference.incomplete && server.error_status != 0);
  if (one_waits && waits != nullptr) ++*waits;
  if (both_refuse && server.error_status != reference.error_status &&
      status_differences != nullptr) {
    ++*status_differences;
  }
  bool same = server.requests.size() == reference.requests.size() &&
              (both_refuse || one_waits ||
               (server.incomplete == reference.incomplete &&
                server.error_status == reference.error_status));
  for (size_t i = 0; same && i < server.requests.size(); ++i) {
    same = server.requests[i].method == reference.requests[i].method &&
           server.requests[i].target == reference.requests[i].target &&
           server.requests[i].body == reference.requests[i].body;
  }
  if (same) return "";
  return "server " + DescribeFraming(server) + " reference " + DescribeFraming(reference);
}

}  // namespace modelmon::server

#endif  // MODELMON_TESTS_SERVER_FRAMING_DIFFERENTIAL_H_
