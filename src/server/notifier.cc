// Placeholder until the notifier is implemented: no notifier is created.
#include "server/notifier.h"

namespace modelmon::server {

std::unique_ptr<Notifier> Notifier::Create(const NotifierConfig&, const std::string&,
                                           metrics::Registry&, const Clock*) {
  return nullptr;
}

}  // namespace modelmon::server
