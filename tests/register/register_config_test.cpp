#include "register/config/register_schema.hpp"

#include <gtest/gtest.h>

#include "register/ingest/broker_intake.hpp"

namespace plant::central {
namespace {

TEST(register_config, defaults_are_those_the_readme_documents) {
  auto loaded = load_register_config_text("", "empty.toml");
  ASSERT_TRUE(loaded.config.has_value());
  const register_config& c = *loaded.config;
  EXPECT_EQ(c.reg.state_dir, "/var/lib/plant-register");
  EXPECT_EQ(c.reg.journal_sync, spool::sync_mode::always);
  EXPECT_EQ(c.mqtt.url, "tcp://localhost:1883");
  EXPECT_EQ(c.mqtt.topic_prefix, "plant/v1");
  EXPECT_EQ(c.mqtt.share_group, "");
  EXPECT_EQ(c.database.url, "postgresql://localhost/plant");
  EXPECT_EQ(c.database.max_batch, 500u);
  EXPECT_EQ(c.database.max_delay, std::chrono::milliseconds(200));
  EXPECT_EQ(c.http.listen, "127.0.0.1:8480");
}

TEST(register_config, set_overrides_are_validated_like_the_file) {
  auto ok = load_register_config_text("", "x.toml", {"mqtt.share_group=registers", "database.max_batch=50"});
  ASSERT_TRUE(ok.config.has_value());
  EXPECT_EQ(ok.config->mqtt.share_group, "registers");
  EXPECT_EQ(ok.config->database.max_batch, 50u);
  auto bad = load_register_config_text("", "x.toml", {"database.max_batch=0"});
  EXPECT_FALSE(bad.config.has_value());
  ASSERT_FALSE(bad.errors.empty());
  EXPECT_NE(bad.errors[0].to_string().find("database.max_batch"), std::string::npos);
}

TEST(register_config, subscriptions_cover_every_kind_and_the_share_group) {
  EXPECT_EQ(ingest::subscription_topics("plant/v1", ""),
            (std::vector<std::string>{"plant/v1/+/+/telemetry", "plant/v1/+/+/status", "plant/v1/+/+/alerts"}));
  EXPECT_EQ(ingest::subscription_topics("acme/plants", "registers").front(),
            "$share/registers/acme/plants/+/+/telemetry");
}

TEST(register_config, transfers_are_read_in_file_order_and_checked) {
  auto ok = load_register_config_text(
      "[[transfer]]\nfrom = \"south\"\nto = \"north\"\ntime = \"6h\"\n"
      "[[transfer]]\nfrom = \"east\"\nto = \"north\"\ntime = \"2d\"\n"
      "[http]\ntokens_file = \"/etc/plant-register/tokens\"\n",
      "x.toml");
  ASSERT_TRUE(ok.config.has_value()) << (ok.errors.empty() ? "" : ok.errors[0].to_string());
  ASSERT_EQ(ok.config->transfers.size(), 2u);
  EXPECT_EQ(ok.config->transfers[0].from, "south");
  EXPECT_EQ(ok.config->transfers[0].to, "north");
  EXPECT_EQ(ok.config->transfers[0].time, std::chrono::hours(6));
  EXPECT_EQ(ok.config->transfers[1].time, std::chrono::hours(48));
  EXPECT_EQ(ok.config->http.tokens_file, "/etc/plant-register/tokens");

  auto errors_of = [](const std::string& text) {
    auto loaded = load_register_config_text(text, "t.toml");
    std::string all;
    for (const auto& e : loaded.errors) all += e.to_string() + "\n";
    return all;
  };
  EXPECT_NE(errors_of("[[transfer]]\nfrom = \"a\"\nto = \"a\"\ntime = \"1h\"\n")
                .find("t.toml:3:6: error: transfer[0].to: is the same site as from ('a')"),
            std::string::npos);
  EXPECT_NE(errors_of("[[transfer]]\nfrom = \"a\"\nto = \"b\"\n").find("transfer[0]: missing required key 'time'"), std::string::npos);
  EXPECT_NE(errors_of("[[transfer]]\nfrom = \"a/b\"\nto = \"b\"\ntime = \"1h\"\n").find("transfer[0].from"),
            std::string::npos);
  EXPECT_NE(errors_of("[[transfer]]\nfrom = \"a\"\nto = \"b\"\ntime = \"1h\"\n"
                      "[[transfer]]\nfrom = \"a\"\nto = \"b\"\ntime = \"2h\"\n")
                .find("transfer"),
            std::string::npos);
  EXPECT_TRUE(errors_of("[[transfer]]\nfrom = \"a\"\nto = \"b\"\ntime = \"1h\"\n"
                        "[[transfer]]\nfrom = \"b\"\nto = \"a\"\ntime = \"2h\"\n")
                  .empty());
}

}  // namespace
}  // namespace plant::central
