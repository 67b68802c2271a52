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

}  // namespace
}  // namespace plant::central
