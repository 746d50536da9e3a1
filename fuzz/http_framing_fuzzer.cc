// Differential fuzz target for HTTP request framing: the server's parser configuration and head
// checks (server/request_framing.h) against the strict RFC 9112 reference in
// tests/server/strict_http.h, on the input bytes as a pipelined request stream and, when the first
// byte is odd, on a stream generated from the input as a seed. Any disagreement on the requests
// executed, their bodies, or the refusal status is a crash.

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>

#include "fuzz_common.h"
#include "server/framing_differential.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return modelmon::fuzz::Guarded(
      [&] {
        std::string bytes(reinterpret_cast<const char*>(data), size);
        if (size >= 9 && (data[0] & 1) != 0) {
          uint64_t seed = 0;
          for (size_t i = 1; i < 9; ++i) seed = seed << 8 | data[i];
          std::mt19937_64 rng(seed);
          bytes = modelmon::strict_http::Generate(rng);
        }
        const std::string diff = modelmon::server::CompareFraming(bytes);
        if (!diff.empty()) {
          std::fprintf(stderr, "%s\n", diff.c_str());
          modelmon::fuzz::Fail("the server frames requests differently from the strict reference");
        }
      },
      "request framing threw");
}
