#pragma once
/// The TLS files of one MQTT connection as they are on disk now: a fingerprint of
/// their contents (so a program can tell that a certificate was rotated and make
/// the next connection with the new files), when each certificate expires, and
/// what is wrong with them, in words that name the key and the file. Read with
/// OpenSSL, which Paho uses for the connection itself.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/core/clock.hpp"

namespace plant::mqtt_link {

/// One of ca_file, cert_file, key_file.
struct tls_file {
  std::string key;                     ///< "ca_file", "cert_file" or "key_file"
  std::string path;
  std::uint64_t content_hash = 0;      ///< of the bytes read (FNV-1a); 0 when unreadable
  std::optional<epoch_ms> not_after;   ///< certificates: the earliest expiry among those in the file
  std::string subject;                 ///< of that certificate, one line ("CN=broker-ca")
  std::string problem;                 ///< "" or what is wrong: "cannot read ...", "holds no PEM certificate", ...
};

/// The files together.
struct tls_files {
  std::vector<tls_file> files;  ///< only those configured

  /// Changes whenever any file's contents (or which files there are) change.
  std::uint64_t fingerprint() const;
  /// "mqtt.cert_file: ..." for the first file with a problem; "" when there is none.
  std::string first_problem() const;
  /// The file for `key`, if configured.
  const tls_file* find(const std::string& key) const;
};

/// Reads the configured files (empty paths are skipped). A cert_file and key_file
/// that do not belong together are a problem on key_file. Encrypted keys are not
/// read (no prompt): Paho is given no passphrase either.
tls_files read_tls_files(const std::string& ca_file, const std::string& cert_file, const std::string& key_file);

/// Names of the files whose contents differ between `before` and `after`: "cert_file, key_file".
std::string changed_files(const tls_files& before, const tls_files& after);

/// A warning for a certificate that expires within `warn_before` of `now`, or has
/// expired: "certificate CN = gw-1 in /etc/x.pem expires in 12 days
/// (2026-12-13T10:00:00.000Z); rotate it; the broker refuses the connection once it
/// has expired". "" otherwise. Callers put the key ("mqtt.cert_file") in front.
std::string expiry_warning(const tls_file& file, epoch_ms now, std::chrono::seconds warn_before);

/// How long before expiry the programs start warning.
inline constexpr std::chrono::seconds expiry_warning_window{30 * 24 * 3600};

/// "" when a TLS client context made as Paho makes it refuses protocols older
/// than TLS 1.2; otherwise what allows them (the system's OpenSSL configuration).
std::string tls_minimum_problem();

}  // namespace plant::mqtt_link
