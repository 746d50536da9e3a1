#ifndef MODELMON_APP_LOGGING_H_
#define MODELMON_APP_LOGGING_H_

#include <string>

#include "modelmon/config.h"

namespace modelmon {

// Configures the process-wide logger (stderr): human-readable text, or one JSON object per line
// with time, level and msg (escaped). Call once at start, before other threads log.
void ConfigureLogging(LogFormat format, const std::string& level);

}  // namespace modelmon

#endif  // MODELMON_APP_LOGGING_H_
