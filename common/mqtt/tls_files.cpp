#include "common/mqtt/tls_files.hpp"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>

#include "common/wire/time_format.hpp"

namespace plant::mqtt_link {

namespace {

constexpr std::size_t max_tls_file_bytes = 1u << 20;  // a CA bundle is a few hundred KB at most

std::uint64_t fnv1a(const std::string& bytes, std::uint64_t h = 1469598103934665603ull) {
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

struct bio_free {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct x509_free {
  void operator()(X509* x) const { X509_free(x); }
};
struct pkey_free {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};

// No passphrase, and never a prompt on the terminal.
int no_passphrase(char*, int, int, void*) { return -1; }

bool read_file(const std::string& path, std::string& out, std::string& problem) {
  // Looked at before it is read: a FIFO or /dev/zero named by mistake would hold up
  // the event loop, which reads these before every connect attempt.
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec) {
    problem = "cannot read " + path + ": " + ec.message();
    return false;
  }
  if (!std::filesystem::is_regular_file(status)) {
    problem = path + " is not a regular file";
    return false;
  }
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec && size > max_tls_file_bytes) {
    problem = path + " is larger than " + std::to_string(max_tls_file_bytes) + " bytes: not a PEM file";
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    problem = "cannot read " + path + ": " + std::strerror(errno);
    return false;
  }
  // Read into one buffer of the file's size: growing a string would leave stray copies of a key.
  out.assign(ec ? 0 : static_cast<std::size_t>(size), '\0');
  in.read(out.data(), static_cast<std::streamsize>(out.size()));
  out.resize(static_cast<std::size_t>(in.gcount()));
  return true;
}

std::optional<epoch_ms> expiry_of(const X509* cert) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1) return std::nullopt;
  return static_cast<epoch_ms>(::timegm(&tm)) * 1000;
}

std::string subject_of(const X509* cert) {
  std::unique_ptr<BIO, bio_free> out(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(out.get(), X509_get_subject_name(cert), 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  const long n = BIO_get_mem_data(out.get(), &data);
  return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : "";
}

// Every certificate in a PEM file; the earliest expiry wins.
std::vector<std::unique_ptr<X509, x509_free>> read_certificates(const std::string& pem, tls_file& f) {
  std::vector<std::unique_ptr<X509, x509_free>> certs;
  std::unique_ptr<BIO, bio_free> in(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  while (X509* raw = PEM_read_bio_X509(in.get(), nullptr, no_passphrase, nullptr)) {
    certs.emplace_back(raw);
    const auto expiry = expiry_of(raw);
    if (expiry && (!f.not_after || *expiry < *f.not_after)) {
      f.not_after = expiry;
      f.subject = subject_of(raw);
    }
  }
  ERR_clear_error();  // the loop ends on "no start line"
  if (certs.empty()) f.problem = f.path + " holds no PEM certificate";
  return certs;
}

tls_file read_one(const std::string& key, const std::string& path, std::string& bytes) {
  tls_file f;
  f.key = key;
  f.path = path;
  if (read_file(path, bytes, f.problem)) f.content_hash = fnv1a(bytes);
  return f;
}

}  // namespace

std::uint64_t tls_files::fingerprint() const {
  std::uint64_t h = 1469598103934665603ull;
  for (const auto& f : files) {
    h = fnv1a(f.key + "=" + f.path + ";", h);
    h ^= f.content_hash;
    h *= 1099511628211ull;
  }
  return h;
}

std::string tls_files::first_problem() const {
  for (const auto& f : files) {
    if (!f.problem.empty()) return "mqtt." + f.key + ": " + f.problem;
  }
  return "";
}

const tls_file* tls_files::find(const std::string& key) const {
  for (const auto& f : files) {
    if (f.key == key) return &f;
  }
  return nullptr;
}

tls_files read_tls_files(const std::string& ca_file, const std::string& cert_file, const std::string& key_file) {
  tls_files out;
  std::string bytes;
  std::unique_ptr<X509, x509_free> client_cert;
  if (!ca_file.empty()) {
    tls_file f = read_one("ca_file", ca_file, bytes);
    if (f.problem.empty()) read_certificates(bytes, f);
    out.files.push_back(std::move(f));
  }
  if (!cert_file.empty()) {
    tls_file f = read_one("cert_file", cert_file, bytes);
    if (f.problem.empty()) {
      auto certs = read_certificates(bytes, f);
      if (!certs.empty()) client_cert = std::move(certs.front());
    }
    out.files.push_back(std::move(f));
  }
  if (!key_file.empty()) {
    tls_file f = read_one("key_file", key_file, bytes);
    if (f.problem.empty()) {
      std::unique_ptr<BIO, bio_free> in(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
      std::unique_ptr<EVP_PKEY, pkey_free> pkey(PEM_read_bio_PrivateKey(in.get(), nullptr, no_passphrase, nullptr));
      ERR_clear_error();
      if (!pkey) {
        f.problem = key_file + " holds no unencrypted PEM private key";
      } else if (client_cert && X509_check_private_key(client_cert.get(), pkey.get()) != 1) {
        ERR_clear_error();
        f.problem = key_file + " is not the key of the certificate in " + cert_file +
                    " (a rotation that replaced one file but not the other?)";
      }
    }
    // Our copy of the key is wiped here (the stream's own read buffer is not).
    OPENSSL_cleanse(bytes.data(), bytes.size());
    out.files.push_back(std::move(f));
  }
  return out;
}

std::string changed_files(const tls_files& before, const tls_files& after) {
  std::string names;
  for (const auto& f : after.files) {
    const tls_file* old = before.find(f.key);
    if (old != nullptr && old->path == f.path && old->content_hash == f.content_hash) continue;
    names += (names.empty() ? "" : ", ") + f.key;
  }
  for (const auto& f : before.files) {
    if (after.find(f.key) == nullptr) names += (names.empty() ? "" : ", ") + f.key;
  }
  return names;
}

std::string expiry_warning(const tls_file& file, epoch_ms now, std::chrono::seconds warn_before) {
  if (!file.not_after) return "";
  const epoch_ms left = *file.not_after - now;
  if (left > std::chrono::duration_cast<std::chrono::milliseconds>(warn_before).count()) return "";
  const std::string what = "certificate " + (file.subject.empty() ? "" : file.subject + " ") + "in " + file.path;
  const std::string when = " (" + wire::format_rfc3339_ms(*file.not_after) + ")";
  const std::string consequence = file.key == "ca_file" ? "; connections fail once it has expired"
                                                        : "; the broker refuses the connection once it has expired";
  if (left <= 0) return what + " expired " + std::to_string(-left / 86'400'000) + " days ago" + when + consequence;
  return what + " expires in " + std::to_string(left / 86'400'000) + " days" + when + "; rotate it" + consequence;
}

namespace {
std::string find_tls_minimum_problem() {
  std::unique_ptr<SSL_CTX, void (*)(SSL_CTX*)> ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  if (!ctx) return "OpenSSL cannot make a TLS client context";
  const long minimum = SSL_CTX_get_min_proto_version(ctx.get());
  // 0 means "the lowest the library supports".
  if (minimum != 0 && minimum >= TLS1_2_VERSION) return "";
  // OpenSSL 3 rates the MD5+SHA1 handshake signatures of TLS 1.0 and 1.1 below
  // security level 1, so from level 1 on (Debian 12: level 2) they cannot be negotiated.
  if (OpenSSL_version_num() >= 0x30000000L && SSL_CTX_get_security_level(ctx.get()) >= 1) return "";
  return "the system's OpenSSL allows protocols older than TLS 1.2 (security level " +
         std::to_string(SSL_CTX_get_security_level(ctx.get())) +
         "; set MinProtocol = TLSv1.2 in the [system_default_sect] of the OpenSSL configuration, or remove "
         "@SECLEVEL=0 from its CipherString)";
}

}  // namespace

std::string tls_minimum_problem() {
  // The system's OpenSSL configuration is read once per process, so is this.
  static const std::string problem = find_tls_minimum_problem();
  return problem;
}

}  // namespace plant::mqtt_link
