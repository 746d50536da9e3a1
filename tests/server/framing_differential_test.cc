// The server's request framing (server/request_framing.h: the parser configuration and head
// checks every connection uses) against a strict reference written from RFC 9112
// (tests/server/strict_http.h), on fixed cases and on generated pipelined streams: the requests
// executed, their bodies, and the verdict must agree. The fuzz target fuzz/http_framing_fuzzer.cc
// runs the same comparison on mutated inputs.

#include "server/framing_differential.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <string>

#include "server/request_framing.h"
#include "server/strict_http.h"

namespace modelmon::server {
namespace {

struct Case {
  const char* name;
  std::string bytes;
  size_t requests;  // Executed.
  int status;       // 0: none.
};

TEST(FramingTest, FixedCasesExecuteWhatTheRfcAllowsAndNothingElse) {
  const std::string get = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::vector<Case> cases = {
      {"plain", get + get, 2, 0},
      {"content length", "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab" + get, 2, 0},
      {"chunked",
       "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n" +
           get,
       2, 0},
      {"gzip only", "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n" + get, 0, 400},
      {"identity", "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\n" + get, 0,
       400},
      {"chunked not final",
       "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n" + get, 0, 400},
      {"unknown coding",
       "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n" + get, 0,
       501},
      {"chunked twice",
       "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: "
       "chunked\r\n\r\n0\r\n\r\n",
       0, 400},
      {"both framings",
       "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: "
       "chunked\r\n\r\n0\r\n\r\n" +
           get,
       0, 400},
      {"te in 1.0", "POST /a HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 0, 400},
      {"length list", "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2, 2\r\n\r\nab", 0, 400},
      {"length twice",
       "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab", 0, 400},
      {"no host", "GET / HTTP/1.1\r\n\r\n", 0, 400},
      {"two hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 0, 400},
      {"1.0 without host", "GET / HTTP/1.0\r\n\r\n", 1, 0},
      {"trailer framing refused",
       "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
       "chunked\r\n\r\n1\r\na\r\n0\r\nContent-Length: 50\r\n\r\n" +
           get,
       0, 400},
      {"trailer dropped",
       "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\nHost: "
       "y\r\n\r\n" +
           get,
       2, 0},
      {"body too large", "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 65\r\n\r\n", 0, 413},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const FramedStream s = FrameRequests(c.bytes, kDifferentialMaxHeader, kDifferentialMaxBody);
    EXPECT_EQ(s.requests.size(), c.requests) << DescribeFraming(s);
    EXPECT_EQ(s.error_status, c.status) << DescribeFraming(s);
    EXPECT_EQ(CompareFraming(c.bytes), "");
  }
}

TEST(FramingTest, TrailersNeverReachTheRequestBody) {
  const FramedStream s = FrameRequests(
      "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n"
      "Authorization: Bearer t\r\n\r\n",
      kDifferentialMaxHeader, kDifferentialMaxBody);
  ASSERT_EQ(s.requests.size(), 1u) << DescribeFraming(s);
  EXPECT_EQ(s.requests[0].body, "abc");
}

TEST(FramingTest, GeneratedStreamsAgreeWithTheStrictReference) {
  std::mt19937_64 rng(20261202);
  int executed = 0, refused = 0, cut = 0, mismatches = 0, waits = 0, status_differences = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::string bytes = strict_http::Generate(rng);
    const std::string diff = CompareFraming(bytes, &waits, &status_differences);
    if (!diff.empty() && ++mismatches <= 5) {
      ADD_FAILURE() << "stream " << i << " disagrees: " << diff
                    << "\nbytes: " << testing::PrintToString(bytes);
    }
    const FramedStream s = FrameRequests(bytes, kDifferentialMaxHeader, kDifferentialMaxBody);
    executed += static_cast<int>(s.requests.size());
    refused += s.error_status != 0;
    cut += s.incomplete;
  }
  EXPECT_EQ(mismatches, 0);
  // The generator reaches every outcome often (so the agreement above means something).
  EXPECT_GT(executed, 10000);
  EXPECT_GT(refused, 2000);
  EXPECT_GT(cut, 500);
  // Waiting instead of refusing stays the exception.
  EXPECT_LT(waits, 400);
  EXPECT_LT(status_differences, 100);
  std::printf(
      "20000 streams: %d requests executed, %d refused, %d cut short, %d waits, %d statuses "
      "differ\n",
      executed, refused, cut, waits, status_differences);
}

}  // namespace
}  // namespace modelmon::server
