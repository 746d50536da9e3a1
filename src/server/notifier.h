#ifndef MODELMON_SERVER_NOTIFIER_H_
#define MODELMON_SERVER_NOTIFIER_H_

#include <memory>
#include <vector>

#include "alerts/rule_engine.h"
#include "metrics/metrics.h"
#include "modelmon/clock.h"
#include "modelmon/config.h"

namespace modelmon::server {

// Delivers alerts to Alertmanager (API v2) and/or a JSON webhook, off the request path: Update()
// only records what must be sent and returns at once; a worker thread owned by the notifier does
// all network I/O with per-attempt timeouts and retries with exponential backoff.
//
// Alertmanager: every firing alert is POSTed to /api/v2/alerts when it starts firing and re-sent
// every resend_interval with endsAt = now + 4 x resend_interval (Prometheus's rule), and a
// resolution (endsAt = now) is sent when it resolves. The worker always sends the latest state, so
// an Alertmanager that is down delays delivery but loses nothing once it is back. Webhook: one POST
// per transition to firing or resolved, queued (at most max_queue, oldest dropped and counted),
// retried until delivered.
//
// Metrics: modelmon_notifications_total{notifier,outcome} and
// modelmon_notification_queue_length{notifier}. Thread-safe.
class Notifier {
 public:
  // Null when no notifier is configured. registry and clock must outlive the notifier.
  static std::unique_ptr<Notifier> Create(const NotifierConfig& config, const std::string& listen,
                                          metrics::Registry& registry, const Clock* clock);
  virtual ~Notifier() = default;  // Stops the worker after at most one attempt's timeout.

  // The alerts pending or firing after an evaluation round, and that round's transitions.
  virtual void Update(const std::vector<alerts::AlertInstance>& active,
                      const std::vector<alerts::Transition>& transitions) = 0;
};

}  // namespace modelmon::server

#endif  // MODELMON_SERVER_NOTIFIER_H_
