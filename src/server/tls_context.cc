#include "server/tls_context.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/system/error_code.hpp>

#include "common/bounded_file.h"

namespace modelmon::server {
namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;

// The reason OpenSSL gives for the last failure, or the error code's message.
std::string OpenSslReason(const boost::system::error_code& ec) {
  const unsigned long e = ERR_peek_last_error();
  std::string reason;
  if (e != 0) {
    const char* r = ERR_reason_error_string(e);
    if (r != nullptr) reason = r;
  }
  ERR_clear_error();
  return reason.empty() ? ec.message() : reason;
}

// Overwrites the key material before the string's memory is released.
class Cleansed {
 public:
  explicit Cleansed(std::string* s) : s_(s) {}
  ~Cleansed() {
    if (!s_->empty()) OPENSSL_cleanse(s_->data(), s_->size());
  }
  Cleansed(const Cleansed&) = delete;
  Cleansed& operator=(const Cleansed&) = delete;

 private:
  std::string* s_;
};

}  // namespace

std::unique_ptr<ssl::context> LoadTlsContext(const TlsConfig& config, std::string* error) {
  boost::system::error_code ec;
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::single_dh_use,
                   ec);
  SSL_CTX* native = ctx->native_handle();
  if (SSL_CTX_set_min_proto_version(
          native, config.min_version >= 13 ? TLS1_3_VERSION : TLS1_2_VERSION) != 1) {
    ERR_clear_error();
    *error = "server.tls.min_version: not supported by this OpenSSL";
    return nullptr;
  }
  std::string cert;
  std::string read_error;
  if (ReadBoundedFile(config.cert_file, kMaxTlsFileBytes, &cert, &read_error) !=
      FileReadStatus::kOk) {
    *error = "server.tls.cert_file: " + read_error;
    return nullptr;
  }
  ctx->use_certificate_chain(net::buffer(cert), ec);
  if (ec) {
    *error = "server.tls.cert_file: cannot load a PEM certificate chain from \"" +
             config.cert_file + "\": " + OpenSslReason(ec);
    return nullptr;
  }
  std::string key;
  const Cleansed cleanse_key(&key);
  if (ReadBoundedFile(config.key_file, kMaxTlsFileBytes, &key, &read_error) !=
      FileReadStatus::kOk) {
    *error = "server.tls.key_file: " + read_error;
    return nullptr;
  }
  ctx->use_private_key(net::buffer(key), ssl::context::pem, ec);
  if (ec) {
    *error = "server.tls.key_file: cannot load a PEM private key from \"" + config.key_file +
             "\": " + OpenSslReason(ec);
    return nullptr;
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    ERR_clear_error();
    *error = "server.tls.key_file: the private key does not match the certificate in \"" +
             config.cert_file + "\"";
    return nullptr;
  }
  return ctx;
}

}  // namespace modelmon::server
