#ifndef MODELMON_COMMON_CHECKSUM_H_
#define MODELMON_COMMON_CHECKSUM_H_

#include <cstdint>
#include <string_view>

namespace modelmon {

// FNV-1a 64 of bytes, continuing from seed (the FNV offset basis by default). Not cryptographic:
// for fingerprints of configuration, never of untrusted input that must resist collisions. O(n).
uint64_t Fnv1a64(std::string_view bytes, uint64_t seed = 14695981039346656037ull);

// CRC-32C (Castagnoli, reflected, as in iSCSI and ext4) of bytes. Detects corruption, not
// tampering. O(n), table-driven (slicing-by-8). Thread-safe.
uint32_t Crc32c(std::string_view bytes);

}  // namespace modelmon

#endif  // MODELMON_COMMON_CHECKSUM_H_
