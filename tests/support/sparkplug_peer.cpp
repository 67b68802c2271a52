#include "tests/support/sparkplug_peer.hpp"

#include <cmath>
#include <thread>

#include "tests/support/run_command.hpp"
#include "tests/support/text_files.hpp"
#include "tests/support/wait_until.hpp"

namespace plant::test {
namespace {

const std::string peer_script = std::string(PLANT_SOURCE_DIR) + "/tests/sparkplug/sparkplug_peer.mjs";

// MQTT.js speaks mqtt://; the brokers of the tests are given as tcp://.
std::string mqtt_js_url(const std::string& url) {
  return url.rfind("tcp://", 0) == 0 ? "mqtt://" + url.substr(6) : url;
}

const std::vector<wire::json_value> no_metrics;

}  // namespace

long long peer_message::seq() const {
  const wire::json_value* seq = json.find("seq");
  return seq && seq->is_number() ? static_cast<long long>(seq->as_number()) : -1;
}

const std::vector<wire::json_value>& peer_message::metrics() const {
  const wire::json_value* metrics = json.find("metrics");
  return metrics && metrics->is_array() ? metrics->items() : no_metrics;
}

const wire::json_value* peer_message::metric(const std::string& name) const {
  for (const auto& m : metrics()) {
    const wire::json_value* n = m.find("name");
    if (n && n->is_string() && n->as_string() == name) return &m;
  }
  return nullptr;
}

testing::AssertionResult sparkplug_listener::start(const std::string& url, const std::string& client_id) {
  process_spec spec;
  spec.argv = {"node", peer_script, "listen", mqtt_js_url(url)};
  if (!client_id.empty()) spec.argv.push_back(client_id);
  spec.output_dir = dir_.path();
  spec.name = "sparkplug-listener";
  auto started = process_.start(spec);
  if (!started) return started;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline) {
    if (process_.stderr_text().find("subscribed") != std::string::npos) return testing::AssertionSuccess();
    if (!process_.running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return testing::AssertionFailure() << "the Sparkplug listener did not subscribe: " << process_.stderr_text();
}

std::vector<peer_message> sparkplug_listener::messages() const {
  std::vector<peer_message> out;
  const std::string text = process_.stdout_text();
  std::size_t start = 0;
  while (true) {
    const std::size_t end = text.find('\n', start);
    if (end == std::string::npos) break;  // a line still being written
    wire::json_parse_result parsed = wire::parse_json(std::string_view(text).substr(start, end - start));
    start = end + 1;
    EXPECT_TRUE(parsed.ok()) << parsed.error;
    if (!parsed.ok()) continue;
    peer_message m;
    m.json = std::move(parsed.value);
    if (const auto* t = m.json.find("topic")) m.topic = t->as_string();
    if (const auto* t = m.json.find("type")) m.type = t->as_string();
    if (const auto* d = m.json.find("device"); d && d->is_string()) m.device = d->as_string();
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<peer_message> sparkplug_listener::of_type(const std::string& type) const {
  std::vector<peer_message> found;
  for (auto& m : messages())
    if (m.type == type) found.push_back(std::move(m));
  return found;
}

testing::AssertionResult publish_host_state(const std::string& url, const std::string& host, bool online) {
  const command_result r = run_command({"node", peer_script, "state", mqtt_js_url(url), host, online ? "true" : "false"},
                                       std::chrono::seconds(20));
  if (r.ok()) return testing::AssertionSuccess();
  return testing::AssertionFailure() << r.describe();
}

testing::AssertionResult request_rebirth(const std::string& url, const std::string& group, const std::string& node) {
  const command_result r = run_command({"node", peer_script, "rebirth", mqtt_js_url(url), group, node}, std::chrono::seconds(20));
  if (r.ok()) return testing::AssertionSuccess();
  return testing::AssertionFailure() << r.describe();
}

double number_of(const wire::json_value& metric, const std::string& field) {
  const wire::json_value* v = metric.find(field);
  return v && v->is_number() ? v->as_number() : std::nan("");
}

std::string text_of(const wire::json_value& metric, const std::string& field) {
  const wire::json_value* v = metric.find(field);
  return v && v->is_string() ? v->as_string() : std::string();
}

}  // namespace plant::test
