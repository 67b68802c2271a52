#include "watch/app/watch_options.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "tests/support/temp_dir.hpp"
#include "tests/support/text_files.hpp"

namespace plant::watch {
namespace {


using namespace std::chrono_literals;

parse_result parse(const std::vector<std::string>& args, const connection_importer& importer = {}) {
  return parse_command_line(args, importer);
}

std::string error_of(const std::vector<std::string>& args, const connection_importer& importer = {}) {
  return parse(args, importer).error;
}

TEST(watch_options, defaults) {
  const parse_result r = parse({});
  ASSERT_EQ(r.error, "");
  EXPECT_FALSE(r.help);
  const watch_options& o = r.options;
  EXPECT_EQ(o.url, "tcp://localhost:1883");
  EXPECT_EQ(o.prefix, "plant/v1");
  EXPECT_EQ(o.topics, std::vector<std::string>{"plant/v1/#"});
  EXPECT_EQ(o.qos, 1);
  EXPECT_EQ(o.client_id, "");
  EXPECT_FALSE(o.persistent);
  EXPECT_FALSE(o.json);
  EXPECT_FALSE(o.audit);
  EXPECT_FALSE(o.shortages);
  EXPECT_FALSE(o.insecure);
  EXPECT_EQ(o.count, 0u);
  EXPECT_EQ(o.duration, 0ms);
  EXPECT_EQ(o.refresh, 1000ms);
}

TEST(watch_options, every_value_flag) {
  const parse_result r =
      parse({"--url", "ssl://broker.plant:8883", "--username", "ops", "--password-file", "/etc/pw", "--ca-file", "/ca.pem",
             "--cert-file", "/c.pem", "--key-file", "/k.pem", "--prefix", "acme/v1", "--qos", "2", "--client-id",
             "watch-1", "--count", "25", "--duration", "2m", "--refresh", "500ms"});
  ASSERT_EQ(r.error, "");
  const watch_options& o = r.options;
  EXPECT_EQ(o.url, "ssl://broker.plant:8883");
  EXPECT_EQ(o.username, "ops");
  EXPECT_EQ(o.password_file, "/etc/pw");
  EXPECT_EQ(o.ca_file, "/ca.pem");
  EXPECT_EQ(o.cert_file, "/c.pem");
  EXPECT_EQ(o.key_file, "/k.pem");
  EXPECT_EQ(o.prefix, "acme/v1");
  EXPECT_EQ(o.topics, std::vector<std::string>{"acme/v1/#"});
  EXPECT_EQ(o.qos, 2);
  EXPECT_EQ(o.client_id, "watch-1");
  EXPECT_EQ(o.count, 25u);
  EXPECT_EQ(o.duration, 120000ms);
  EXPECT_EQ(o.refresh, 500ms);
}

TEST(watch_options, every_switch_and_equals_form) {
  const parse_result r = parse({"--url=ssl://b:8883", "--insecure", "--json", "--audit", "--shortages", "--persistent",
                                "--client-id=ops-watch", "--qos=0"});
  ASSERT_EQ(r.error, "");
  EXPECT_TRUE(r.options.insecure);
  EXPECT_TRUE(r.options.json);
  EXPECT_TRUE(r.options.audit);
  EXPECT_TRUE(r.options.shortages);
  EXPECT_TRUE(r.options.persistent);
  EXPECT_EQ(r.options.client_id, "ops-watch");
  EXPECT_EQ(r.options.qos, 0);
  EXPECT_EQ(r.options.url, "ssl://b:8883");
}

TEST(watch_options, topics_repeat_and_replace_the_default) {
  const parse_result r = parse({"--topic", "plant/v1/+/+/alerts", "--topic", "plant/v1/site-a/#"});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.options.topics, (std::vector<std::string>{"plant/v1/+/+/alerts", "plant/v1/site-a/#"}));
}

TEST(watch_options, help) {
  EXPECT_TRUE(parse({"--help"}).help);
  EXPECT_TRUE(parse({"--json", "-h"}).help);
  const std::string text = help_text();
  for (const char* flag : {"--url URL", "--username USER", "--password-file FILE", "--ca-file FILE", "--cert-file FILE",
                           "--key-file FILE", "--insecure", "--prefix PREFIX", "--topic FILTER", "--qos N",
                           "--client-id ID", "--persistent", "--json", "--audit", "--shortages", "--count N",
                           "--duration D", "--refresh D", "--config FILE", "--help"}) {
    EXPECT_NE(text.find(std::string("  ") + flag + " "), std::string::npos) << flag;
  }
}

TEST(watch_options, unknown_option_with_suggestion) {
  EXPECT_EQ(error_of({"--jsn"}), "plant-watch: unknown option '--jsn'; did you mean '--json'?");
  EXPECT_EQ(error_of({"--dur", "1s"}), "plant-watch: unknown option '--dur'; did you mean '--duration'?");
  EXPECT_EQ(error_of({"--qso=1"}), "plant-watch: unknown option '--qso'; did you mean '--qos'?");
  EXPECT_EQ(error_of({"--frobnicate"}), "plant-watch: unknown option '--frobnicate'; see plant-watch --help");
  EXPECT_EQ(error_of({"-x"}), "plant-watch: unknown option '-x'; see plant-watch --help");
}

TEST(watch_options, usage_errors) {
  EXPECT_EQ(error_of({"extra"}), "plant-watch: unexpected argument 'extra'; see plant-watch --help");
  EXPECT_EQ(error_of({"--url"}), "plant-watch: option '--url' needs a value (URL)");
  EXPECT_EQ(error_of({"--url", "--json"}), "plant-watch: option '--url' needs a value (URL)");
  EXPECT_EQ(error_of({"--json=yes"}), "plant-watch: option '--json' takes no value");
  EXPECT_EQ(error_of({"--qos", "1", "--qos", "2"}), "plant-watch: option '--qos' given more than once");
  EXPECT_EQ(error_of({"--qos", "3"}), "plant-watch: --qos: expected 0, 1 or 2, got '3'");
  EXPECT_EQ(error_of({"--count", "0"}), "plant-watch: --count: expected a whole number above 0, got '0'");
  EXPECT_EQ(error_of({"--count", "12x"}), "plant-watch: --count: expected a whole number above 0, got '12x'");
  EXPECT_EQ(error_of({"--duration", "10x"}),
            "plant-watch: --duration: expected a duration like 500ms, 10s, 2m or 1h30m, got '10x' "
            "(unknown unit 'x'; use ms, s, m, h or d)");
  EXPECT_EQ(error_of({"--refresh", "1.5s"}),
            "plant-watch: --refresh: expected a duration like 500ms, 10s, 2m or 1h30m, got '1.5s' "
            "(fractions are not allowed; write e.g. \"1m30s\" instead of \"1.5m\")");
  EXPECT_EQ(error_of({"--refresh", "10ms"}), "plant-watch: --refresh: must be at least 100ms, got '10ms'");
  EXPECT_EQ(error_of({"--client-id="}), "plant-watch: --client-id: must not be empty");
  EXPECT_EQ(error_of({"--topic", "plant/#/x"}),
            "plant-watch: --topic: invalid filter 'plant/#/x': '#' must be a whole level and the last one");
  EXPECT_EQ(error_of({"--topic", "plant/v+/x"}), "plant-watch: --topic: invalid filter 'plant/v+/x': '+' must be a whole level");
  EXPECT_EQ(error_of({"--topic", ""}), "plant-watch: --topic: invalid filter '': the filter is empty");
  EXPECT_EQ(error_of({"--prefix", "plant/#"}),
            "plant-watch: --prefix: expected topic levels like plant/v1 without wildcards, got 'plant/#'");
}

TEST(watch_options, url_must_be_tcp_or_ssl) {
  EXPECT_EQ(error_of({"--url", "http://broker:1883"}),
            "plant-watch: --url: expected tcp://host:port or ssl://host:port, got 'http://broker:1883'");
  EXPECT_EQ(error_of({"--url", "tcp://broker:99999"}),
            "plant-watch: --url: expected tcp://host:port or ssl://host:port, got 'tcp://broker:99999'");
  EXPECT_EQ(error_of({"--url", "tcp://"}), "plant-watch: --url: expected tcp://host:port or ssl://host:port, got 'tcp://'");
  EXPECT_EQ(error_of({"--url", "tcp://broker"}), "");
  EXPECT_EQ(error_of({"--url", "tcp://[::1]:1883"}), "");
}

TEST(watch_options, dependent_flags) {
  EXPECT_EQ(error_of({"--persistent"}),
            "plant-watch: --persistent needs --client-id (the broker keeps the session under that id)");
  EXPECT_EQ(error_of({"--password-file", "/pw"}),
            "plant-watch: --password-file needs --username (MQTT sends no password without a user name)");
  EXPECT_EQ(error_of({"--url", "ssl://b:8883", "--key-file", "/k.pem"}), "plant-watch: --key-file needs --cert-file");
  EXPECT_EQ(error_of({"--ca-file", "/ca.pem"}), "plant-watch: --ca-file needs an ssl:// URL, got 'tcp://localhost:1883'");
  EXPECT_EQ(error_of({"--url", "tcp://b:1883", "--insecure"}), "plant-watch: --insecure needs an ssl:// URL, got 'tcp://b:1883'");
}

TEST(watch_options, durations_use_the_config_grammar) {
  std::chrono::milliseconds d{0};
  std::string why;
  ASSERT_TRUE(parse_positive_duration("500ms", d, why));
  EXPECT_EQ(d, 500ms);
  ASSERT_TRUE(parse_positive_duration("10s", d, why));
  EXPECT_EQ(d, 10000ms);
  ASSERT_TRUE(parse_positive_duration("2m", d, why));
  EXPECT_EQ(d, 120000ms);
  ASSERT_TRUE(parse_positive_duration("1h", d, why));
  EXPECT_EQ(d, 3600000ms);
  // The config accepts compounds, so the CLI does too (it refused "1h30m" before).
  ASSERT_TRUE(parse_positive_duration("1h30m", d, why)) << why;
  EXPECT_EQ(d, 5400000ms);
  ASSERT_TRUE(parse_positive_duration("7d", d, why)) << why;
  EXPECT_EQ(d, 7 * 24 * 3600000ms);
  EXPECT_FALSE(parse_positive_duration("0s", d, why));
  EXPECT_EQ(why, "it must be more than 0");
  EXPECT_FALSE(parse_positive_duration("10", d, why));
  EXPECT_FALSE(parse_positive_duration("s", d, why));
  EXPECT_FALSE(parse_positive_duration("-1s", d, why));
  EXPECT_FALSE(parse_positive_duration("1 s", d, why));
  EXPECT_FALSE(parse_positive_duration("99999999999999999999h", d, why));
}

TEST(watch_options, a_bad_duration_says_why) {
  EXPECT_EQ(error_of({"--duration", "1.5m"}),
            "plant-watch: --duration: expected a duration like 500ms, 10s, 2m or 1h30m, got '1.5m' "
            "(fractions are not allowed; write e.g. \"1m30s\" instead of \"1.5m\")");
}

imported_connection agent_settings() {
  imported_connection c;
  c.url = "ssl://agent-broker:8883";
  c.username = "agent-7";
  c.password_file = "/etc/plant-agent/mqtt.pw";
  c.ca_file = "/etc/plant-agent/ca.pem";
  c.cert_file = "/etc/plant-agent/agent.pem";
  c.key_file = "/etc/plant-agent/agent.key";
  c.tls_verify = false;
  c.topic_prefix = "acme/v1";
  return c;
}

TEST(watch_options, config_supplies_connection_settings) {
  std::string asked;
  const auto importer = [&](const std::string& path) {
    asked = path;
    return connection_import{agent_settings(), ""};
  };
  const parse_result r = parse({"--config", "/etc/plant-agent/agent.toml"}, importer);
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(asked, "/etc/plant-agent/agent.toml");
  const watch_options& o = r.options;
  EXPECT_EQ(o.url, "ssl://agent-broker:8883");
  EXPECT_EQ(o.username, "agent-7");
  EXPECT_EQ(o.password_file, "/etc/plant-agent/mqtt.pw");
  EXPECT_EQ(o.ca_file, "/etc/plant-agent/ca.pem");
  EXPECT_EQ(o.cert_file, "/etc/plant-agent/agent.pem");
  EXPECT_EQ(o.key_file, "/etc/plant-agent/agent.key");
  EXPECT_TRUE(o.insecure);
  EXPECT_EQ(o.prefix, "acme/v1");
  EXPECT_EQ(o.topics, std::vector<std::string>{"acme/v1/#"});
}

TEST(watch_options, flags_beat_config_whatever_the_order) {
  const auto importer = [](const std::string&) { return connection_import{agent_settings(), ""}; };
  const parse_result r = parse({"--url", "ssl://other:8883", "--config", "agent.toml", "--username", "ops", "--prefix",
                                "plant/v1"},
                               importer);
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.options.url, "ssl://other:8883");
  EXPECT_EQ(r.options.username, "ops");
  EXPECT_EQ(r.options.prefix, "plant/v1");
  EXPECT_EQ(r.options.ca_file, "/etc/plant-agent/ca.pem");  // not on the command line: from the config
}

TEST(watch_options, config_errors_are_reported_with_the_file) {
  const auto importer = [](const std::string&) {
    return connection_import{std::nullopt, "agent.toml:3:7: error: mqtt.url: expected a string"};
  };
  EXPECT_EQ(error_of({"--config", "agent.toml"}, importer),
            "plant-watch: cannot use --config agent.toml:\nagent.toml:3:7: error: mqtt.url: expected a string");
  EXPECT_EQ(error_of({"--config", "agent.toml"}), "plant-watch: --config is not supported by this build");
}

TEST(watch_options, invalid_url_from_config_names_its_origin) {
  const auto importer = [](const std::string&) {
    imported_connection c;
    c.url = "mqtt://x:1883";
    return connection_import{c, ""};
  };
  EXPECT_EQ(error_of({"--config", "agent.toml"}, importer),
            "plant-watch: mqtt.url from agent.toml: expected tcp://host:port or ssl://host:port, got 'mqtt://x:1883'");
}

TEST(watch_options, password_file_strips_one_newline) {
  plant::test::temp_dir dir("watch-options");
  std::string password;
  ASSERT_TRUE(plant::test::write_file(dir.file("pw"), "s3cret \n\n"));
  EXPECT_EQ(read_password_file(dir.file("pw"), password), "");
  EXPECT_EQ(password, "s3cret \n");
  ASSERT_TRUE(plant::test::write_file(dir.file("crlf"), "abc\r\n"));
  EXPECT_EQ(read_password_file(dir.file("crlf"), password), "");
  EXPECT_EQ(password, "abc");
  ASSERT_TRUE(plant::test::write_file(dir.file("bare"), "abc"));
  EXPECT_EQ(read_password_file(dir.file("bare"), password), "");
  EXPECT_EQ(password, "abc");
  EXPECT_EQ(read_password_file(dir.file("missing"), password),
            "plant-watch: --password-file " + dir.file("missing") + ": cannot open: No such file or directory");
}

}  // namespace
}  // namespace plant::watch
