#include "config/sections.h"

namespace modelmon::config {

void ReadNotify(YamlReader& y, const YAML::Node& node, NotifierConfig* n) {
  if (!node.IsMap()) {
    y.Error("notify", "expected a mapping, got " + Describe(node));
    return;
  }
  y.CheckKeys(node, "notify",
              {"alertmanager_url", "webhook_url", "external_url", "resend_interval", "timeout",
               "max_queue"});
  if (node["alertmanager_url"]) {
    if (auto v = y.Url(node["alertmanager_url"], "notify.alertmanager_url")) {
      n->alertmanager_url = *v;
    }
  }
  if (node["webhook_url"]) {
    if (auto v = y.Url(node["webhook_url"], "notify.webhook_url")) n->webhook_url = *v;
  }
  if (node["external_url"]) {
    if (auto v = y.Url(node["external_url"], "notify.external_url")) n->external_url = *v;
  }
  if (node["resend_interval"]) {
    if (auto v = y.Duration(node["resend_interval"], "notify.resend_interval")) {
      n->resend_interval = *v;
    }
  }
  if (node["timeout"]) {
    if (auto v = y.Duration(node["timeout"], "notify.timeout")) n->timeout = *v;
  }
  if (node["max_queue"]) {
    if (auto v = y.Integer(node["max_queue"], "notify.max_queue", 1, 1000000)) {
      n->max_queue = static_cast<size_t>(*v);
    }
  }
}

}  // namespace modelmon::config
