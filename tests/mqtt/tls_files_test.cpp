#include "common/mqtt/tls_files.hpp"

#include <gtest/gtest.h>

#include "tests/support/temp_dir.hpp"
#include "tests/support/test_pki.hpp"
#include "tests/support/text_files.hpp"

namespace plant::mqtt_link {
namespace {

constexpr epoch_ms day_ms = 86'400'000;

class tls_files_test : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(pki.generate(dir.path()));
    ASSERT_TRUE(pki.issue_client(dir.path(), "short", "gw-short", 10, short_cert, short_key));
  }
  plant::test::temp_dir dir{"tls-files"};
  plant::test::test_pki pki;
  std::string short_cert, short_key;
};

TEST_F(tls_files_test, reads_expiry_and_subject_and_accepts_a_matching_pair) {
  const tls_files files = read_tls_files(pki.ca_cert, short_cert, short_key);
  ASSERT_EQ(files.files.size(), 3u);
  EXPECT_EQ(files.first_problem(), "");
  const tls_file* cert = files.find("cert_file");
  ASSERT_NE(cert, nullptr);
  ASSERT_TRUE(cert->not_after.has_value());
  EXPECT_NEAR(static_cast<double>(*cert->not_after - wall_clock_ms()), 10.0 * day_ms, 2.0 * 60'000);
  EXPECT_EQ(cert->subject, "CN = gw-short");
  ASSERT_NE(files.find("ca_file"), nullptr);
  EXPECT_EQ(files.find("ca_file")->subject, "CN = plant-test-ca");
  EXPECT_FALSE(files.find("key_file")->not_after.has_value());
}

TEST_F(tls_files_test, names_a_key_that_is_not_the_certificates_and_files_that_are_not_pem) {
  const tls_files mismatched = read_tls_files(pki.ca_cert, short_cert, pki.client_key);
  EXPECT_EQ(mismatched.first_problem(), "mqtt.key_file: " + pki.client_key + " is not the key of the certificate in " +
                                            short_cert + " (a rotation that replaced one file but not the other?)");
  const std::string junk = dir.write("junk.pem", "not a certificate\n");
  EXPECT_EQ(read_tls_files(junk, "", "").first_problem(), "mqtt.ca_file: " + junk + " holds no PEM certificate");
  EXPECT_EQ(read_tls_files("", pki.client_cert, junk).first_problem(),
            "mqtt.key_file: " + junk + " holds no unencrypted PEM private key");
  const std::string missing = dir.file("missing.pem");
  EXPECT_EQ(read_tls_files(missing, "", "").first_problem(),
            "mqtt.ca_file: cannot read " + missing + ": No such file or directory");
}

TEST_F(tls_files_test, a_rotation_changes_the_fingerprint_and_names_the_files) {
  const std::string cert = dir.file("agent.crt");
  const std::string key = dir.file("agent.key");
  ASSERT_TRUE(plant::test::write_file(cert, plant::test::read_file(pki.client_cert)));
  ASSERT_TRUE(plant::test::write_file(key, plant::test::read_file(pki.client_key)));
  const tls_files before = read_tls_files(pki.ca_cert, cert, key);
  EXPECT_EQ(read_tls_files(pki.ca_cert, cert, key).fingerprint(), before.fingerprint());
  ASSERT_TRUE(plant::test::write_file(cert, plant::test::read_file(short_cert)));
  ASSERT_TRUE(plant::test::write_file(key, plant::test::read_file(short_key)));
  const tls_files after = read_tls_files(pki.ca_cert, cert, key);
  EXPECT_NE(after.fingerprint(), before.fingerprint());
  EXPECT_EQ(changed_files(before, after), "cert_file, key_file");
  EXPECT_EQ(changed_files(after, after), "");
}

TEST(tls_expiry, warns_within_the_window_and_after_expiry_only) {
  tls_file f;
  f.key = "cert_file";
  f.path = "/etc/plant-agent/gw.crt";
  f.subject = "CN = gw-1";
  const epoch_ms now = 1'800'000'000'000;
  f.not_after = now + 12 * day_ms + 5000;
  EXPECT_EQ(expiry_warning(f, now, expiry_warning_window),
            "certificate CN = gw-1 in /etc/plant-agent/gw.crt expires in 12 days (2027-01-27T08:00:05.000Z); rotate "
            "it; the broker refuses the connection once it has expired");
  f.not_after = now - 3 * day_ms;
  EXPECT_EQ(expiry_warning(f, now, expiry_warning_window),
            "certificate CN = gw-1 in /etc/plant-agent/gw.crt expired 3 days ago (2027-01-12T08:00:00.000Z); the "
            "broker refuses the connection once it has expired");
  f.not_after = now + 31 * day_ms;
  EXPECT_EQ(expiry_warning(f, now, expiry_warning_window), "");
  f.not_after.reset();
  EXPECT_EQ(expiry_warning(f, now, expiry_warning_window), "");
}

TEST(tls_minimum, debians_openssl_refuses_protocols_below_tls_1_2) { EXPECT_EQ(tls_minimum_problem(), ""); }

}  // namespace
}  // namespace plant::mqtt_link
