#pragma once
/// A throw-away PKI made with the openssl CLI (EC P-256, 365 days, well under a
/// second): a CA, a server certificate for localhost / 127.0.0.1, a client
/// certificate, and a second unrelated CA with its own client certificate for
/// "wrong CA" tests. All members are absolute paths to PEM files.
#include <gtest/gtest.h>

#include <string>

namespace plant::test {

struct test_pki {
  /// The CA that signed server_cert and client_cert.
  std::string ca_cert;
  /// The CA's private key (unencrypted, like every key here).
  std::string ca_key;
  /// CN=localhost, subjectAltName IP:127.0.0.1, DNS:localhost, extendedKeyUsage serverAuth.
  std::string server_cert;
  /// server_cert's key.
  std::string server_key;
  /// CN=plant-test-client, extendedKeyUsage clientAuth, signed by ca_cert.
  std::string client_cert;
  /// client_cert's key.
  std::string client_key;
  /// An unrelated CA: trusting it must not validate server_cert.
  std::string other_ca_cert;
  /// other_ca_cert's key.
  std::string other_ca_key;
  /// CN=plant-test-intruder, signed by other_ca_cert: rejected by a broker requiring ca_cert clients.
  std::string other_client_cert;
  /// other_client_cert's key.
  std::string other_client_key;

  /// Generates every file into `dir` (which must exist); a failure names the openssl command and its stderr.
  testing::AssertionResult generate(const std::string& dir);
  /// One more client certificate signed by ca_cert (after generate): CN=`common_name`, valid for
  /// `days` days, written to `<dir>/<stem>.crt` and `.key`, whose paths go to `cert` and `key`.
  testing::AssertionResult issue_client(const std::string& dir, const std::string& stem,
                                        const std::string& common_name, int days, std::string& cert,
                                        std::string& key) const;
};

}  // namespace plant::test
