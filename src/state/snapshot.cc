#include "state/snapshot.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>

namespace modelmon::state {
namespace {

constexpr char kMagic[8] = {'M', 'M', 'S', 'N', 'A', 'P', 'v', '\0'};
constexpr size_t kHeaderBytes = 8 + 4 + 8 + 4;
enum SectionTag : uint32_t { kMeta = 1, kModel = 2, kAlerts = 3, kCounters = 4 };

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

void EncodeSample(Writer& w, const SampleSnapshot& s) {
  w.U64(s.rows);
  w.Count(s.numbers.size());
  for (const auto& column : s.numbers) {
    w.Count(column.size());
    for (const auto& [value, count] : column) {
      w.F64(value);
      w.I64(count);
    }
  }
  w.Count(s.categories.size());
  for (const auto& column : s.categories) {
    w.Count(column.size());
    for (const auto& [name, count] : column) {
      w.Str(name);
      w.I64(count);
    }
  }
}

SampleSnapshot DecodeSample(Reader& r) {
  SampleSnapshot s;
  s.rows = r.U64();
  if (s.rows > kMaxSampleValues) r.Fail();
  s.numbers.resize(r.Count(4));
  uint64_t expanded = 0;  // Values of every column together.
  for (auto& column : s.numbers) {
    column.resize(r.Count(16));
    uint64_t total = 0;
    for (auto& [value, count] : column) {
      value = r.F64();
      count = r.I64();
      if (count < 1 || static_cast<uint64_t>(count) > s.rows) r.Fail();
      total += static_cast<uint64_t>(count);
      expanded += static_cast<uint64_t>(count);
      if (total > s.rows || expanded > kMaxSampleValues) r.Fail();
    }
  }
  s.categories.resize(r.Count(4));
  for (auto& column : s.categories) {
    column.resize(r.Count(12));
    for (auto& [name, count] : column) {
      name = r.Str();
      count = r.I64();
      if (count < 1) r.Fail();
    }
  }
  return s;
}

void EncodeModel(Writer& w, const ModelSnapshot& m) {
  w.Str(m.name);
  w.U64(m.fingerprint);
  w.Str(m.reference_key);
  w.Str(m.reference_source);
  w.U8(m.reference ? 1 : 0);
  if (m.reference) EncodeSample(w, *m.reference);
  w.U8(m.capture ? 1 : 0);
  if (m.capture) EncodeSample(w, *m.capture);
  w.Count(m.window_ages_ns.size());
  for (int64_t age : m.window_ages_ns) w.I64(age);
  w.Count(m.window_columns.size());
  for (const WindowColumnSnapshot& c : m.window_columns) {
    w.Doubles(c.numbers);
    w.Count(c.ids.size());
    for (uint32_t id : c.ids) w.U32(id);
    w.Count(c.names.size());
    for (const std::string& n : c.names) w.Str(n);
  }
  w.Count(m.versions.size());
  for (const std::string& v : m.versions) w.Str(v);
  w.Count(m.pending_predictions.size());
  for (const PendingPredictionSnapshot& p : m.pending_predictions) {
    w.Str(p.id);
    w.I64(p.age_ns);
    w.Str(p.version);
    w.I32(p.predicted_class);
    w.F64(p.predicted_value);
    w.F64(p.score);
    w.Doubles(p.class_scores);
  }
  w.Count(m.pending_labels.size());
  for (const PendingLabelSnapshot& l : m.pending_labels) {
    w.Str(l.id);
    w.I64(l.age_ns);
    w.I32(l.label_class);
    w.F64(l.value);
  }
  w.Count(m.joined_ids.size());
  for (const std::string& id : m.joined_ids) w.Str(id);
  w.Count(m.performance.size());
  for (const auto& [version, pairs] : m.performance) {
    w.Str(version);
    w.Count(pairs.size());
    for (const JoinedPairSnapshot& p : pairs) {
      w.I64(p.age_ns);
      w.I32(p.label);
      w.I32(p.predicted);
      w.F64(p.score);
      w.Doubles(p.class_scores);
      w.F64(p.y_true);
      w.F64(p.y_pred);
    }
  }
  w.Count(m.baseline.size());
  for (const auto& [metric, value] : m.baseline) {
    w.Str(metric);
    w.F64(value);
  }
}

ModelSnapshot DecodeModel(Reader& r) {
  ModelSnapshot m;
  m.name = r.Str();
  m.fingerprint = r.U64();
  m.reference_key = r.Str();
  m.reference_source = r.Str();
  if (r.Bool()) m.reference = DecodeSample(r);
  if (r.Bool()) m.capture = DecodeSample(r);
  m.window_ages_ns.resize(r.Count(8));
  for (int64_t& age : m.window_ages_ns) age = r.Age();
  m.window_columns.resize(r.Count(12));
  for (WindowColumnSnapshot& c : m.window_columns) {
    c.numbers = r.Doubles();
    c.ids.resize(r.Count(4));
    for (uint32_t& id : c.ids) id = r.U32();
    c.names.resize(r.Count(4));
    for (std::string& n : c.names) n = r.Str();
    for (uint32_t id : c.ids) {
      if (id != WindowColumnSnapshot::kMissingCategory && id >= c.names.size()) r.Fail();
    }
    // A column is numerical or categorical, and holds one value per windowed event.
    if ((!c.numbers.empty() && !c.ids.empty()) ||
        c.numbers.size() + c.ids.size() != m.window_ages_ns.size()) {
      r.Fail();
    }
  }
  m.versions.resize(r.Count(4));
  for (std::string& v : m.versions) v = r.Str();
  m.pending_predictions.resize(r.Count(40));
  for (PendingPredictionSnapshot& p : m.pending_predictions) {
    p.id = r.Str();
    p.age_ns = r.Age();
    p.version = r.Str();
    p.predicted_class = r.I32();
    p.predicted_value = r.F64();
    p.score = r.F64();
    p.class_scores = r.Doubles();
  }
  m.pending_labels.resize(r.Count(24));
  for (PendingLabelSnapshot& l : m.pending_labels) {
    l.id = r.Str();
    l.age_ns = r.Age();
    l.label_class = r.I32();
    l.value = r.F64();
  }
  m.joined_ids.resize(r.Count(4));
  for (std::string& id : m.joined_ids) id = r.Str();
  m.performance.resize(r.Count(8));
  for (auto& [version, pairs] : m.performance) {
    version = r.Str();
    pairs.resize(r.Count(44));
    for (JoinedPairSnapshot& p : pairs) {
      p.age_ns = r.Age();
      p.label = r.I32();
      p.predicted = r.I32();
      p.score = r.F64();
      p.class_scores = r.Doubles();
      p.y_true = r.F64();
      p.y_pred = r.F64();
    }
  }
  const size_t baselines = r.Count(12);
  for (size_t i = 0; i < baselines && r.ok(); ++i) {
    std::string metric = r.Str();
    m.baseline[std::move(metric)] = r.F64();
  }
  return m;
}

void EncodeAlerts(Writer& w, const std::vector<AlertSnapshot>& alerts) {
  w.Count(alerts.size());
  for (const AlertSnapshot& a : alerts) {
    w.Str(a.rule);
    w.U64(a.rule_fingerprint);
    w.Labels(a.labels);
    w.U8(a.firing ? 1 : 0);
    w.I64(a.active_age_ns);
    w.U8(a.fired_age_ns ? 1 : 0);
    w.I64(a.fired_age_ns.value_or(0));
    w.F64(a.last_value);
  }
}

std::vector<AlertSnapshot> DecodeAlerts(Reader& r) {
  std::vector<AlertSnapshot> alerts(r.Count(38));
  for (AlertSnapshot& a : alerts) {
    a.rule = r.Str();
    a.rule_fingerprint = r.U64();
    a.labels = r.Labels();
    a.firing = r.Bool();
    a.active_age_ns = r.Age();
    const bool fired = r.Bool();
    const int64_t fired_age = r.Age();
    if (fired) a.fired_age_ns = fired_age;
    a.last_value = r.F64();
  }
  return alerts;
}

void EncodeCounters(Writer& w, const std::vector<CounterSnapshot>& counters) {
  w.Count(counters.size());
  for (const CounterSnapshot& c : counters) {
    w.Str(c.name);
    w.Labels(c.labels);
    w.F64(c.value);
  }
}

std::vector<CounterSnapshot> DecodeCounters(Reader& r) {
  std::vector<CounterSnapshot> counters(r.Count(16));
  for (CounterSnapshot& c : counters) {
    c.name = r.Str();
    c.labels = r.Labels();
    c.value = r.F64();
    if (!std::isfinite(c.value) || c.value < 0) r.Fail();
  }
  return counters;
}

void Put(std::string& out, size_t at, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i)
    out[at + static_cast<size_t>(i)] = static_cast<char>(v >> (8 * i));
}

// Slicing-by-8 tables: table[0] is the bytewise table, table[k][i] the CRC of byte i followed by k
// zero bytes.
using CrcTables = std::array<std::array<uint32_t, 256>, 8>;
CrcTables MakeCrcTables() {
  CrcTables t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    t[0][i] = c;
  }
  for (size_t k = 1; k < 8; ++k) {
    for (size_t i = 0; i < 256; ++i) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xFFu];
  }
  return t;
}

std::string ErrnoText(const char* what, const std::string& path) {
  std::string s = what;
  s += ' ';
  s += path;
  s += ": ";
  s += std::strerror(errno);
  return s;
}

}  // namespace

uint64_t Fnv1a64(std::string_view bytes, uint64_t seed) {
  uint64_t h = seed;
  for (char c : bytes) {
    h ^= static_cast<uint8_t>(c);
    h *= 1099511628211ull;
  }
  return h;
}

uint32_t Crc32c(std::string_view bytes) {
  static const CrcTables kT = MakeCrcTables();
  uint32_t c = 0xFFFFFFFFu;
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t n = bytes.size();
  for (; n >= 8; n -= 8, p += 8) {
    const uint32_t lo =
        c ^ (uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24);
    c = kT[7][lo & 0xFFu] ^ kT[6][(lo >> 8) & 0xFFu] ^ kT[5][(lo >> 16) & 0xFFu] ^ kT[4][lo >> 24] ^
        kT[3][p[4]] ^ kT[2][p[5]] ^ kT[1][p[6]] ^ kT[0][p[7]];
  }
  for (; n > 0; --n, ++p) c = kT[0][(c ^ *p) & 0xFFu] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

uint64_t ModelFingerprint(const ingest::ModelSchema& schema) {
  const ModelConfig& c = schema.config();
  // Fields separated by NUL, which no configured name contains.
  std::string key = TaskName(c.task);
  auto field = [&key](std::string_view v) {
    key += '\0';
    key.append(v);
  };
  for (const std::string& cls : c.classes) field(cls);
  field("|");
  field(c.positive_class);
  for (const ingest::Column& column : schema.columns()) {
    field(column.name);
    field(FeatureTypeName(column.type));
  }
  field("|");
  field(std::to_string(c.window.size));
  field(std::to_string(c.drift.psi_bins));
  field(std::to_string(c.drift.max_categories));
  return Fnv1a64(key);
}

std::string ReferenceKey(const ModelConfig& config) {
  std::string key;
  if (!config.reference.file.empty()) {
    key = "file:";
    key += config.reference.file;
  } else {
    key = "capture:";
    key += std::to_string(config.reference.capture);
  }
  return key;
}

const char* DecodeErrorName(DecodeError error) {
  switch (error) {
    case DecodeError::kNone:
      return "none";
    case DecodeError::kTruncated:
      return "truncated";
    case DecodeError::kMagic:
      return "magic";
    case DecodeError::kVersion:
      return "version";
    case DecodeError::kChecksum:
      return "checksum";
    case DecodeError::kCorrupt:
      return "corrupt";
  }
  return "corrupt";
}

std::string EncodeSnapshot(const Snapshot& snapshot) {
  Writer w;
  w.bytes().append(kMagic, sizeof(kMagic));
  w.U32(kSnapshotFormatVersion);
  w.U64(0);  // Payload length, filled in below.
  w.U32(0);  // Checksum, filled in below.
  size_t at = w.BeginSection(kMeta);
  w.F64(snapshot.wall_time);
  w.EndSection(at);
  for (const ModelSnapshot& m : snapshot.models) {
    at = w.BeginSection(kModel);
    EncodeModel(w, m);
    w.EndSection(at);
  }
  at = w.BeginSection(kAlerts);
  EncodeAlerts(w, snapshot.alerts);
  w.EndSection(at);
  at = w.BeginSection(kCounters);
  EncodeCounters(w, snapshot.counters);
  w.EndSection(at);
  std::string& out = w.bytes();
  const std::string_view payload = std::string_view(out).substr(kHeaderBytes);
  Put(out, 12, payload.size(), 8);
  Put(out, 20, Crc32c(payload), 4);
  return std::move(out);
}

DecodeResult DecodeSnapshot(std::string_view bytes) {
  DecodeResult result;
  auto fail = [&result](DecodeError error, std::string message) {
    result.error = error;
    result.message = std::move(message);
    result.snapshot.reset();
    return std::move(result);
  };
  if (bytes.size() < sizeof(kMagic) || std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) {
    // A prefix of the magic is a file cut short; anything else is not a snapshot.
    if (bytes.size() < sizeof(kMagic) && std::memcmp(bytes.data(), kMagic, bytes.size()) == 0) {
      return fail(DecodeError::kTruncated, "file shorter than its header");
    }
    return fail(DecodeError::kMagic, "not a modelmon snapshot (bad magic)");
  }
  if (bytes.size() < kHeaderBytes) {
    return fail(DecodeError::kTruncated, "file shorter than its header");
  }
  Reader header(bytes.substr(sizeof(kMagic), kHeaderBytes - sizeof(kMagic)));
  const uint32_t version = header.U32();
  const uint64_t length = header.U64();
  const uint32_t crc = header.U32();
  if (version == 0 || version > kSnapshotFormatVersion) {
    std::string m = "format version ";
    m += std::to_string(version);
    m += " (this build reads up to ";
    m += std::to_string(kSnapshotFormatVersion);
    m += ')';
    return fail(version == 0 ? DecodeError::kCorrupt : DecodeError::kVersion, std::move(m));
  }
  const std::string_view payload = bytes.substr(kHeaderBytes);
  if (length > payload.size()) return fail(DecodeError::kTruncated, "payload cut short");
  if (length < payload.size()) return fail(DecodeError::kCorrupt, "trailing bytes after payload");
  if (Crc32c(payload) != crc) return fail(DecodeError::kChecksum, "payload checksum mismatch");

  Snapshot s;
  bool meta = false;
  Reader r(payload);
  while (r.ok() && !r.done()) {
    const uint32_t tag = r.U32();
    Reader section(r.Bytes(r.U64()));
    if (!r.ok()) break;
    switch (tag) {
      case kMeta:
        s.wall_time = section.F64();
        meta = std::isfinite(s.wall_time);
        break;
      case kModel:
        s.models.push_back(DecodeModel(section));
        break;
      case kAlerts:
        s.alerts = DecodeAlerts(section);
        break;
      case kCounters:
        s.counters = DecodeCounters(section);
        break;
      default:
        continue;  // A later minor revision's section: skipped.
    }
    if (!section.ok() || !section.done()) {
      std::string m = "malformed section ";
      m += std::to_string(tag);
      return fail(DecodeError::kCorrupt, std::move(m));
    }
  }
  if (!r.ok()) return fail(DecodeError::kCorrupt, "malformed section framing");
  if (!meta) return fail(DecodeError::kCorrupt, "missing meta section");
  result.snapshot = std::move(s);
  return result;
}

bool WriteFileAtomically(const std::string& path, std::string_view bytes, std::string* error) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    *error = ErrnoText("cannot create", tmp);
    return false;
  }
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *error = ErrnoText("cannot write", tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      return false;
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    *error = ErrnoText("cannot fsync", tmp);
    ::close(fd);
    ::unlink(tmp.c_str());
    return false;
  }
  if (::close(fd) != 0) {
    *error = ErrnoText("cannot close", tmp);
    ::unlink(tmp.c_str());
    return false;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    *error = ErrnoText("cannot rename onto", path);
    ::unlink(tmp.c_str());
    return false;
  }
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0 || ::fsync(dfd) != 0) {
    *error = ErrnoText("cannot fsync directory", dir);
    if (dfd >= 0) ::close(dfd);
    return false;
  }
  ::close(dfd);
  return true;
}

std::optional<std::string> ReadSnapshotFile(const std::string& path, size_t max_bytes,
                                            bool* missing, std::string* error) {
  *missing = false;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *missing = errno == ENOENT;
    *error = ErrnoText("cannot open", path);
    return std::nullopt;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    *error = "not a regular file: " + path;
    ::close(fd);
    return std::nullopt;
  }
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    *error = "larger than " + std::to_string(max_bytes) + " bytes: " + path;
    ::close(fd);
    return std::nullopt;
  }
  std::string out(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < out.size()) {
    const ssize_t n = ::read(fd, out.data() + got, out.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *error = ErrnoText("cannot read", path);
      ::close(fd);
      return std::nullopt;
    }
    if (n == 0) break;  // Shrank while reading: decode what is there.
    got += static_cast<size_t>(n);
  }
  out.resize(got);
  ::close(fd);
  return out;
}

}  // namespace modelmon::state
