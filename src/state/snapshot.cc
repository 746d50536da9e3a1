#include "state/snapshot.h"

#include <cmath>
#include <cstring>

#include "common/checksum.h"
#include "state/snapshot_codec.h"
#include "state/snapshot_validation.h"

namespace modelmon::state {
namespace {

using snapshot_codec::Reader;
using snapshot_codec::Writer;

constexpr char kMagic[8] = {'M', 'M', 'S', 'N', 'A', 'P', 'v', '\0'};
constexpr size_t kHeaderBytes = 8 + 4 + 8 + 4;
enum SectionTag : uint32_t { kMeta = 1, kModel = 2, kAlerts = 3, kCounters = 4 };

void Put(std::string& out, size_t at, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i)
    out[at + static_cast<size_t>(i)] = static_cast<char>(v >> (8 * i));
}

}  // namespace

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
    case DecodeError::kInvalid:
      return "invalid";
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
    snapshot_codec::EncodeModel(w, m);
    w.EndSection(at);
  }
  at = w.BeginSection(kAlerts);
  snapshot_codec::EncodeAlerts(w, snapshot.alerts);
  w.EndSection(at);
  at = w.BeginSection(kCounters);
  snapshot_codec::EncodeCounters(w, snapshot.counters);
  w.EndSection(at);
  std::string& out = w.bytes();
  const std::string_view payload = std::string_view(out).substr(kHeaderBytes);
  Put(out, 12, payload.size(), 8);
  Put(out, 20, Crc32c(payload), 4);
  return std::move(out);
}

DecodeResult DecodeSnapshot(std::string_view bytes) {
  auto fail = [](DecodeError error, std::string message) {
    DecodeResult failed;
    failed.error = error;
    failed.message = std::move(message);
    return failed;
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
        s.models.push_back(snapshot_codec::DecodeModel(section));
        break;
      case kAlerts:
        s.alerts = snapshot_codec::DecodeAlerts(section);
        break;
      case kCounters:
        s.counters = snapshot_codec::DecodeCounters(section);
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
  std::string invalid;
  if (!ValidateSnapshot(s, &invalid)) return fail(DecodeError::kInvalid, std::move(invalid));
  DecodeResult result;
  result.snapshot = std::move(s);
  return result;
}

}  // namespace modelmon::state
