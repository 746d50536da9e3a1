#include "common/checksum.h"

#include <gtest/gtest.h>

#include <string>

namespace modelmon {
namespace {

TEST(ChecksumTest, Crc32cKnownAnswer) {
  // The CRC-32C check value (RFC 3720, appendix B.4).
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Fnv1a64(""), 14695981039346656037ull);
  EXPECT_EQ(Fnv1a64("a"), 0xaf63dc4c8601ec8cull);
}

TEST(ChecksumTest, Crc32cRfc3720Vectors) {
  // RFC 3720, appendix B.4: 32 bytes of zeros, of ones, incrementing and decrementing. Each is
  // longer than the 8-byte stride, so the sliced path and the byte tail both run.
  std::string zeros(32, '\0'), ones(32, '\xff'), up(32, '\0'), down(32, '\0');
  for (size_t i = 0; i < 32; ++i) {
    up[i] = static_cast<char>(i);
    down[i] = static_cast<char>(31 - i);
  }
  EXPECT_EQ(Crc32c(zeros), 0x8A9136AAu);
  EXPECT_EQ(Crc32c(ones), 0x62A8AB43u);
  EXPECT_EQ(Crc32c(up), 0x46DD794Eu);
  EXPECT_EQ(Crc32c(down), 0x113FDB5Cu);
  EXPECT_EQ(Crc32c(""), 0u);
}

TEST(ChecksumTest, Crc32cDetectsASingleFlippedBit) {
  std::string bytes = "a snapshot payload of some length, 0123456789";
  const uint32_t before = Crc32c(bytes);
  bytes[13] = static_cast<char>(bytes[13] ^ 0x10);
  EXPECT_NE(Crc32c(bytes), before);
}

TEST(ChecksumTest, Fnv1a64KnownAnswersAndChaining) {
  EXPECT_EQ(Fnv1a64("foobar"), 0x85944171f73967e8ull);
  // The seed continues a hash: hashing in two pieces equals hashing the whole.
  EXPECT_EQ(Fnv1a64("bar", Fnv1a64("foo")), Fnv1a64("foobar"));
  EXPECT_NE(Fnv1a64("ab"), Fnv1a64("ba"));
}

}  // namespace
}  // namespace modelmon
