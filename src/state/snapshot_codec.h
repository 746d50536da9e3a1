#ifndef MODELMON_STATE_SNAPSHOT_CODEC_H_
#define MODELMON_STATE_SNAPSHOT_CODEC_H_

#include <bit>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "state/snapshot.h"

// The byte-level pieces of the snapshot format (see state/snapshot.h): little-endian field
// writing and bounds-checked reading, and the body codec of each section. For the snapshot
// implementation only. Not thread-safe: a Writer or Reader belongs to one call.

namespace modelmon::state::snapshot_codec {

// Appends little-endian fields to a byte string.
class Writer {
 public:
  void U8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void U32(uint32_t v) { Fixed<4>(v); }
  void U64(uint64_t v) { Fixed<8>(v); }
  void I32(int32_t v) { U32(static_cast<uint32_t>(v)); }
  void I64(int64_t v) { U64(static_cast<uint64_t>(v)); }
  void F64(double v) { U64(std::bit_cast<uint64_t>(v)); }
  void Count(size_t n) { U32(static_cast<uint32_t>(n)); }
  void Str(std::string_view s) {
    Count(s.size());
    out_.append(s);
  }
  void Labels(const std::map<std::string, std::string>& labels) {
    Count(labels.size());
    for (const auto& [k, v] : labels) {
      Str(k);
      Str(v);
    }
  }
  void Doubles(const std::vector<double>& v) {
    Count(v.size());
    for (double d : v) F64(d);
  }
  // Starts a length-prefixed section; EndSection() fills in its length.
  size_t BeginSection(uint32_t tag) {
    U32(tag);
    const size_t at = out_.size();
    U64(0);
    return at;
  }
  void EndSection(size_t at) {
    const uint64_t length = out_.size() - at - 8;
    for (size_t i = 0; i < 8; ++i) out_[at + i] = static_cast<char>(length >> (8 * i));
  }
  std::string& bytes() { return out_; }

 private:
  template <size_t N>
  void Fixed(uint64_t v) {
    char b[N];
    for (size_t i = 0; i < N; ++i) b[i] = static_cast<char>(v >> (8 * i));
    out_.append(b, N);
  }

  std::string out_;
};

// Reads little-endian fields with bounds checks. After the first failure every read returns zero
// values and ok() stays false; callers check ok() once at the end of a structure.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }
  bool done() const { return pos_ == in_.size(); }
  size_t remaining() const { return in_.size() - pos_; }
  void Fail() {
    ok_ = false;
    pos_ = in_.size();
  }

  uint8_t U8() {
    if (remaining() < 1) {
      Fail();
      return 0;
    }
    return static_cast<uint8_t>(in_[pos_++]);
  }
  uint32_t U32() {
    if (remaining() < 4) {
      Fail();
      return 0;
    }
    uint32_t v = 0;
    for (size_t i = 0; i < 4; ++i) v |= uint32_t{static_cast<uint8_t>(in_[pos_ + i])} << (8 * i);
    pos_ += 4;
    return v;
  }
  uint64_t U64() {
    if (remaining() < 8) {
      Fail();
      return 0;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < 8; ++i) v |= uint64_t{static_cast<uint8_t>(in_[pos_ + i])} << (8 * i);
    pos_ += 8;
    return v;
  }
  int32_t I32() { return static_cast<int32_t>(U32()); }
  int64_t I64() { return static_cast<int64_t>(U64()); }
  double F64() { return std::bit_cast<double>(U64()); }
  bool Bool() {
    const uint8_t v = U8();
    if (v > 1) Fail();
    return v == 1;
  }
  // A list length whose elements take at least min_bytes each: longer than the rest of the input
  // can hold is a failure, so no allocation ever exceeds the input's size.
  size_t Count(size_t min_bytes) {
    const uint32_t n = U32();
    if (min_bytes > 0 && n > remaining() / min_bytes) {
      Fail();
      return 0;
    }
    return n;
  }
  std::string Str() {
    const size_t n = Count(1);
    if (!ok_) return {};
    std::string s(in_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  std::string_view Bytes(uint64_t n) {
    if (n > remaining()) {
      Fail();
      return {};
    }
    std::string_view s = in_.substr(pos_, static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return s;
  }
  std::map<std::string, std::string> Labels() {
    std::map<std::string, std::string> labels;
    const size_t n = Count(8);
    for (size_t i = 0; i < n && ok_; ++i) {
      std::string k = Str();
      labels[std::move(k)] = Str();
    }
    return labels;
  }
  std::vector<double> Doubles() {
    std::vector<double> v(Count(8));
    for (double& d : v) d = F64();
    return v;
  }
  // An age in nanoseconds: never negative, at most ~100 years.
  int64_t Age() {
    const int64_t v = I64();
    if (v < 0 || v > kMaxAgeNs) Fail();
    return v;
  }

 private:
  static constexpr int64_t kMaxAgeNs = int64_t{100} * 366 * 24 * 3600 * 1000000000;
  std::string_view in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

// Section bodies. Decode* never throw: malformed input fails the Reader (check ok() after) and
// allocates at most O(bytes) plus bounded sample expansion (kMaxSampleValues).
void EncodeModel(Writer& w, const ModelSnapshot& m);
ModelSnapshot DecodeModel(Reader& r);
void EncodeAlerts(Writer& w, const std::vector<AlertSnapshot>& alerts);
std::vector<AlertSnapshot> DecodeAlerts(Reader& r);
void EncodeCounters(Writer& w, const std::vector<CounterSnapshot>& counters);
std::vector<CounterSnapshot> DecodeCounters(Reader& r);

}  // namespace modelmon::state::snapshot_codec

#endif  // MODELMON_STATE_SNAPSHOT_CODEC_H_
