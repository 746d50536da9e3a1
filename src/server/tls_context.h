#ifndef MODELMON_SERVER_TLS_CONTEXT_H_
#define MODELMON_SERVER_TLS_CONTEXT_H_

#include <cstddef>
#include <memory>
#include <string>

#include "modelmon/config.h"

namespace boost::asio::ssl {
class context;
}  // namespace boost::asio::ssl

namespace modelmon::server {

// The largest certificate chain or private key file LoadTlsContext reads.
inline constexpr size_t kMaxTlsFileBytes = size_t{1} << 20;

// Builds the TLS server context of server.tls: the minimum protocol version, the PEM certificate
// chain and the PEM private key, and checks that they match. Both files are read through
// ReadBoundedFile (regular files of at most kMaxTlsFileBytes, so a FIFO or /dev/zero is refused
// without blocking) and OpenSSL parses the bytes. Binds nothing and writes nothing. Null with
// *error set otherwise; every error starts with "server.tls." and its key (a configuration error).
// Precondition: config.enabled(). Thread-safe (OpenSSL's error queue is per thread).
std::unique_ptr<boost::asio::ssl::context> LoadTlsContext(const TlsConfig& config,
                                                          std::string* error);

}  // namespace modelmon::server

#endif  // MODELMON_SERVER_TLS_CONTEXT_H_
