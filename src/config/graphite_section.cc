#include "config/sections.h"

namespace modelmon::config {

void ReadGraphite(YamlReader& y, const YAML::Node& node, GraphiteConfig* g) {
  if (!node.IsMap()) {
    y.Error("graphite", "expected a mapping {address, prefix, interval}, got " + Describe(node));
    return;
  }
  y.CheckKeys(node, "graphite", {"address", "prefix", "interval"});
  if (!node["address"]) {
    y.Error("graphite.address", "is required (host:port of a carbon plaintext listener)");
  } else if (auto v = y.String(node["address"], "graphite.address")) {
    const auto colon = v->rfind(':');
    auto port = colon == std::string::npos ? std::nullopt
                                           : y.Integer(YAML::Node(v->substr(colon + 1)),
                                                       "graphite.address (port)", 1, 65535);
    if (colon == std::string::npos || colon == 0) {
      y.Error("graphite.address", "expected host:port, got \"" + *v + "\"");
    } else if (port) {
      g->host = v->substr(0, colon);
      g->port = static_cast<uint16_t>(*port);
    }
  }
  if (node["prefix"]) {
    if (auto v = y.String(node["prefix"], "graphite.prefix")) {
      g->prefix = *v;
      y.CheckName(g->prefix, "graphite.prefix");
    }
  }
  if (node["interval"]) {
    if (auto v = y.Duration(node["interval"], "graphite.interval")) g->interval = *v;
  }
}

}  // namespace modelmon::config
