#ifndef MODELMON_SERVER_STATUS_VIEWS_H_
#define MODELMON_SERVER_STATUS_VIEWS_H_

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "alerts/rule_engine.h"
#include "state/model_state.h"

namespace modelmon::server {

// The JSON views of the status endpoints. Pure functions of their arguments; non-finite numbers
// render as null, so every result serialises to valid JSON.

// One model as GET /v1/models (with_columns false) or GET /v1/models/{model} (true) shows it.
// `classes` names the classification classes, in index order.
nlohmann::json ModelStatusJson(const state::ModelStatus& status, bool with_columns,
                               const std::vector<std::string>& classes);

// {"alerts": [...]} as GET /v1/alerts shows it; steady-clock times become Unix seconds relative
// to (steady_now, unix_now).
nlohmann::json AlertsJson(const std::vector<alerts::AlertInstance>& active,
                          std::chrono::steady_clock::time_point steady_now, double unix_now);

}  // namespace modelmon::server

#endif  // MODELMON_SERVER_STATUS_VIEWS_H_
