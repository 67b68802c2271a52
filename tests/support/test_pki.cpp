#include "tests/support/test_pki.hpp"

#include <chrono>
#include <vector>

#include "tests/support/run_command.hpp"
#include "tests/support/text_files.hpp"

namespace plant::test {

namespace {

constexpr std::chrono::seconds openssl_timeout{20};
const std::string client_ext =
    "basicConstraints=CA:FALSE\n"
    "keyUsage=critical,digitalSignature,keyEncipherment\n"
    "extendedKeyUsage=clientAuth\n";

// -nodes and a fixed curve keep generation fast and free of prompts; the
// extensions are given on the command line so the system openssl.cnf cannot change them.
std::vector<std::string> new_key_args(const std::string& key) {
  return {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key};
}

testing::AssertionResult run_openssl(std::vector<std::string> args) {
  args.insert(args.begin(), "openssl");
  const command_result result = run_command(args, openssl_timeout);
  if (result.ok()) return testing::AssertionSuccess();
  return testing::AssertionFailure() << "test_pki: " << result.describe();
}

testing::AssertionResult make_ca(const std::string& cert, const std::string& key, const std::string& name) {
  std::vector<std::string> args = {"req", "-x509"};
  for (const auto& arg : new_key_args(key)) args.push_back(arg);
  args.insert(args.end(), {"-out", cert, "-days", "365", "-subj", "/CN=" + name, "-addext",
                           "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"});
  return run_openssl(args);
}

testing::AssertionResult make_leaf(const std::string& dir, const std::string& stem, const std::string& subject,
                                   const std::string& extensions, const std::string& ca_cert,
                                   const std::string& ca_key, int serial, int days = 365) {
  const std::string csr = dir + "/" + stem + ".csr";
  const std::string ext = dir + "/" + stem + ".ext";
  std::vector<std::string> request = {"req", "-new"};
  for (const auto& arg : new_key_args(dir + "/" + stem + ".key")) request.push_back(arg);
  request.insert(request.end(), {"-out", csr, "-subj", "/CN=" + subject});
  if (auto made = run_openssl(request); !made) return made;
  if (auto written = write_file(ext, extensions); !written) return written;
  return run_openssl({"x509", "-req", "-in", csr, "-CA", ca_cert, "-CAkey", ca_key, "-set_serial",
                      std::to_string(serial), "-days", std::to_string(days), "-extfile", ext, "-out", dir + "/" + stem + ".crt"});
}

}  // namespace

testing::AssertionResult test_pki::generate(const std::string& dir) {
  ca_cert = dir + "/ca.crt";
  ca_key = dir + "/ca.key";
  server_cert = dir + "/server.crt";
  server_key = dir + "/server.key";
  client_cert = dir + "/client.crt";
  client_key = dir + "/client.key";
  other_ca_cert = dir + "/other-ca.crt";
  other_ca_key = dir + "/other-ca.key";
  other_client_cert = dir + "/other-client.crt";
  other_client_key = dir + "/other-client.key";

  const std::string server_ext =
      "basicConstraints=CA:FALSE\n"
      "keyUsage=critical,digitalSignature,keyEncipherment\n"
      "extendedKeyUsage=serverAuth\n"
      "subjectAltName=IP:127.0.0.1,DNS:localhost\n";
  if (auto made = make_ca(ca_cert, ca_key, "plant-test-ca"); !made) return made;
  if (auto made = make_ca(other_ca_cert, other_ca_key, "plant-test-other-ca"); !made) return made;
  if (auto made = make_leaf(dir, "server", "localhost", server_ext, ca_cert, ca_key, 2); !made) return made;
  if (auto made = make_leaf(dir, "client", "plant-test-client", client_ext, ca_cert, ca_key, 3); !made) return made;
  return make_leaf(dir, "other-client", "plant-test-intruder", client_ext, other_ca_cert, other_ca_key, 4);
}

testing::AssertionResult test_pki::issue_client(const std::string& dir, const std::string& stem,
                                                const std::string& common_name, int days, std::string& cert,
                                                std::string& key) const {
  static int serial = 100;
  cert = dir + "/" + stem + ".crt";
  key = dir + "/" + stem + ".key";
  return make_leaf(dir, stem, common_name, client_ext, ca_cert, ca_key, ++serial, days);
}

}  // namespace plant::test
