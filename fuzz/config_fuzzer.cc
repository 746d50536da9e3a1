// libFuzzer target for LoadConfigString on untrusted YAML.
//
// *_token_file keys make the loader read files: inputs naming /dev, /proc or /sys are skipped so
// that a device such as /dev/zero cannot stall the run (a trusted-config concern, not a parser
// one). Invariants: nothing throws; a result is either a Config with no errors or errors and no
// Config; a loaded Config satisfies the documented constraints checked below.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>

#include "fuzz_common.h"
#include "modelmon/config.h"

namespace modelmon::fuzz {
namespace {

bool IsClass(const ModelConfig& m, const std::string& name) {
  for (const std::string& c : m.classes) {
    if (c == name) return true;
  }
  return false;
}

void CheckModel(const ModelConfig& m) {
  if (m.name.empty() || m.name.size() > 128) Fail("model name length outside 1..128");
  for (const char c : m.name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == ':' || c == '-';
    if (!ok) Fail("model name outside [A-Za-z0-9_.:-]");
  }
  if (m.window.size < 1 || m.window.size > 1000000) Fail("window.size outside 1..1000000");
  if (m.reference.file.empty() == (m.reference.capture == 0)) {
    Fail("reference has neither or both of file and capture");
  }
  switch (m.task) {
    case Task::kBinaryClassification:
      if (m.classes.size() != 2) Fail("binary model without exactly two classes");
      if (!IsClass(m, m.positive_class)) Fail("positive_class is not a class");
      break;
    case Task::kMulticlassClassification:
      if (m.classes.size() < 2) Fail("multiclass model with fewer than two classes");
      break;
    case Task::kRegression:
      if (!m.classes.empty()) Fail("regression model with classes");
      break;
  }
}

void Run(const uint8_t* data, size_t size) {
  const std::string yaml(reinterpret_cast<const char*>(data), size);
  for (const char* skipped : {"/dev", "/proc", "/sys"}) {
    if (yaml.find(skipped) != std::string::npos) return;
  }
  const ConfigResult result = LoadConfigString(yaml);
  if (result.ok() != result.errors.empty()) Fail("ok() disagrees with the error list");
  if (!result.ok()) return;
  const Config& config = *result.config;
  if (config.server.threads < 1 || config.server.threads > 64) Fail("threads outside 1..64");
  for (const ModelConfig& m : config.models) CheckModel(m);
}

}  // namespace
}  // namespace modelmon::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return modelmon::fuzz::Guarded([&] { modelmon::fuzz::Run(data, size); },
                                 "LoadConfigString threw");
}
