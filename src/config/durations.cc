#include "config/durations.h"

#include <cmath>
#include <cstdlib>
#include <string>

namespace modelmon {

bool IsBareNumberDuration(std::string_view text) {
  if (text.empty() || text == "0") return false;
  for (const char ch : text) {
    if ((ch < '0' || ch > '9') && ch != '.') return false;
  }
  return true;
}

std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  if (text == "0") return std::chrono::milliseconds(0);
  size_t digits = 0;
  while (digits < text.size() &&
         ((text[digits] >= '0' && text[digits] <= '9') || text[digits] == '.')) {
    ++digits;
  }
  if (digits == 0 || text.size() - digits > 2) return std::nullopt;
  const std::string number(text.substr(0, digits));
  char* end = nullptr;
  const double value = std::strtod(number.c_str(), &end);
  if (end != number.c_str() + number.size()) return std::nullopt;
  const std::string_view unit = text.substr(digits);
  double scale = 0;
  if (unit == "ms") {
    scale = 1;
  } else if (unit == "s") {
    scale = 1e3;
  } else if (unit == "m") {
    scale = 60e3;
  } else if (unit == "h") {
    scale = 3600e3;
  } else if (unit == "d") {
    scale = 86400e3;
  } else {
    return std::nullopt;
  }
  const double ms = std::round(value * scale);
  // Ten years is far beyond any sensible window or TTL; reject rather than overflow.
  if (!std::isfinite(ms) || ms > 315360000000.0) return std::nullopt;
  return std::chrono::milliseconds(static_cast<int64_t>(ms));
}

}  // namespace modelmon
