#include "register/config/register_schema.hpp"

#include "common/config/checks.hpp"
#include "common/config/loader.hpp"
#include "common/config/mqtt_keys.hpp"
#include "common/config/reference.hpp"

namespace plant::central {

using namespace plant::config;
using vt = value_type;

namespace {

const char* const intro =
    "# plant-register configuration reference\n"
    "#\n"
    "# Every key is listed with its default value and what it does. Durations are\n"
    "# strings such as \"250ms\", \"5s\", \"2m\"; sizes are strings such as \"64MiB\" or\n"
    "# \"1GiB\". Relative paths are resolved against the directory of this file.\n"
    "# Unknown keys are errors. Any key can be overridden with --set key.path=value,\n"
    "# e.g. --set database.max_batch=1000. SIGHUP re-reads this file: log_level is\n"
    "# applied at once, every other change is reported and waits for a restart.\n";

std::string check_state_dir(std::string& text) {
  if (text.empty()) return "must not be empty (\"\" would put the journal in the working directory)";
  return "";
}

std::string check_database_url(std::string& text) {
  if (text.rfind("postgresql://", 0) != 0 && text.rfind("postgres://", 0) != 0)
    return "must be a libpq URI, \"postgresql://[user@]host[:port]/dbname[?param=value]\"";
  // A password in the URL would be logged by anyone who prints the config.
  const auto scheme_end = text.find("://") + 3;
  const auto at = text.find('@', scheme_end);
  const auto slash = text.find('/', scheme_end);
  if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
    const std::string user_info = text.substr(scheme_end, at - scheme_end);
    if (user_info.find(':') != std::string::npos)
      return "holds a password; put it in database.password_file instead";
  }
  return "";
}

std::string check_share_group(std::string& text) {
  if (text.empty()) return "";
  return check_name(text);
}

section_spec register_spec() {
  section_spec s;
  s.name = "register";
  s.help = "This register instance: its journal and logging.";
  s.keys = {
      make_key("state_dir", vt::path).def(quoted("/var/lib/plant-register")).checked(check_state_dir)
          .describe("Directory for the journal (state_dir/journal): what the broker delivered is written there "
                    "before it is acknowledged, and kept until PostgreSQL committed it. One instance per "
                    "directory (it is locked).")
          .stored(store<&register_section::state_dir>).on_reload_restart(),
      make_key("log_level", vt::choice).def(quoted("info")).one_of({"debug", "info", "warn", "error"})
          .describe("Least severe level that is logged.").stored(store<&register_section::level>),
      make_key("journal_max_bytes", vt::size).def(quoted("1GiB")).range("1MiB", "1TiB")
          .describe("Bound of the journal while PostgreSQL is away; past it the oldest uncommitted messages are "
                    "dropped, counted and logged by range.")
          .stored(store<&register_section::journal_max_bytes>).on_reload_restart(),
      make_key("journal_sync", vt::choice).def(quoted("always")).one_of({"always", "batch", "never"})
          .describe("always: fdatasync before the broker gets its PUBACK (survives a power cut); never: "
                    "write() only (survives a crash of the register, not of the host). batch is read as always.")
          .stored(store<&register_section::journal_sync>).on_reload_restart(),
      make_key("shutdown_timeout", vt::duration).def(quoted("10s")).range("0s", "5m")
          .describe("On stop, how long the journal may take to reach PostgreSQL; the rest waits in the journal.")
          .stored(store<&register_section::shutdown_timeout>),
  };
  return s;
}

section_spec mqtt_spec() {
  section_spec s;
  s.name = "mqtt";
  s.help = "The broker the agents publish to. The register subscribes with QoS 1 and a persistent session.";
  s.check = check_mqtt_connection;
  s.keys = mqtt_connection_keys<mqtt_section>(
      "\"\" = \"plant-register-<host name>\". With a persistent session it must stay the same across restarts "
      "and differ between instances.");
  s.keys.push_back(
      make_key("share_group", vt::string).def(quoted("")).checked(check_share_group)
          .describe("\"\" = every instance receives everything; a name = instances with the same share_group "
                    "split the messages ($share/<share_group>/<topic_prefix>/+/+/...).")
          .example_value(quoted("registers"))
          .stored(store<&mqtt_section::share_group>).on_reload_restart());
  for (auto& key : s.keys)
    if (key.reload == reload_policy::reconnect || key.reload == reload_policy::live) key.reload = reload_policy::restart;
  return s;
}

section_spec database_spec() {
  section_spec s;
  s.name = "database";
  s.help = "PostgreSQL 15 or later. The register creates and migrates its own tables.";
  s.keys = {
      make_key("url", vt::string).def(quoted("postgresql://localhost/plant")).checked(check_database_url)
          .describe("libpq URI; user, host, port, dbname and options such as sslmode=verify-full.")
          .stored(store<&database_section::url>).on_reload_restart(),
      make_key("password_file", vt::path).def(quoted(""))
          .describe("File holding the database password; \"\" = libpq's own (~/.pgpass, PGPASSWORD) or none.")
          .stored(store<&database_section::password_file>).on_reload_restart(),
      make_key("max_batch", vt::integer).def("500").range("1", "100000")
          .describe("Messages written per transaction.").stored(store<&database_section::max_batch>)
          .on_reload_restart(),
      make_key("max_delay", vt::duration).def(quoted("200ms")).range("0s", "1m")
          .describe("A message waits at most this for more to share its transaction.")
          .stored(store<&database_section::max_delay>).on_reload_restart(),
      make_key("connect_timeout", vt::duration).def(quoted("10s")).range("1s", "5m").in_whole_seconds()
          .describe("Give up a connection attempt after this.").stored(store<&database_section::connect_timeout>)
          .on_reload_restart(),
      make_key("retry_max_delay", vt::duration).def(quoted("30s")).range("100ms", "1h")
          .describe("Longest wait between attempts while PostgreSQL is down (doubles from 100ms).")
          .stored(store<&database_section::retry_max_delay>).on_reload_restart(),
      make_key("statement_timeout", vt::duration).def(quoted("30s")).range("100ms", "1h")
          .describe("Longest one statement (a batch, an API query) may run.")
          .stored(store<&database_section::statement_timeout>).on_reload_restart(),
  };
  return s;
}

section_spec http_spec() {
  section_spec s;
  s.name = "http";
  s.help = "The JSON API, /healthz and /metrics.";
  s.keys = {
      make_key("listen", vt::string).def(quoted("127.0.0.1:8480")).checked(check_listen)
          .describe("\"host:port\" of the API; \"\" = off.").stored(store<&http_section::listen>)
          .on_reload_restart(),
      make_key("max_connections", vt::integer).def("32").range("1", "10000")
          .describe("Connections open at once; more are closed at once (counted).")
          .stored(store<&http_section::max_connections>).on_reload_restart(),
      make_key("max_rows", vt::integer).def("100000").range("1", "10000000")
          .describe("No answer holds more rows, whatever its limit parameter asks.")
          .stored(store<&http_section::max_rows>).on_reload_restart(),
      make_key("tokens_file", vt::path).def(quoted("")).example_value(quoted("/etc/plant-register/tokens"))
          .describe("Operators allowed to acknowledge and snooze shortages: one \"name:token\" per line (# starts "
                    "a comment; tokens of 16 characters or more). Requests carry \"Authorization: Bearer "
                    "<token>\". \"\" = the board and API are read-only. Re-read on SIGHUP.")
          .stored(store<&http_section::tokens_file>),
  };
  return s;
}

void check_transfer(table_value& values, diagnostic_sink& sink) {
  const key_value& from = values.get("from");
  const key_value& to = values.get("to");
  if (from.has && to.has && from.text == to.text)
    sink.error(to.at, values.path + ".to", "is the same site as from ('" + from.text + "')");
}

section_spec transfer_spec() {
  section_spec s;
  s.name = "transfer";
  s.help = "How long moving stock between two sites takes, for the board's transfer proposals. An entry "
           "serves both directions unless the other direction has an entry of its own.";
  s.check = check_transfer;
  s.keys = {
      make_key("from", vt::string).req().checked(check_name).example_value(quoted("south"))
          .describe("The site that sends (as the agents' agent.site).").stored(store<&transfer_route::from>),
      make_key("to", vt::string).req().checked(check_name).example_value(quoted("north"))
          .describe("The site that receives.").stored(store<&transfer_route::to>),
      make_key("time", vt::duration).req().range("1s", "365d").example_value(quoted("6h"))
          .describe("From the decision to send until the stock is on hand at `to`.")
          .stored(store<&transfer_route::time>),
  };
  return s;
}

void check_root(table_value& values, diagnostic_sink& sink) {
  std::vector<named_at> routes;
  for (const table_value& block : values.get("transfer").tables)
    routes.push_back({block.get("from").text + " -> " + block.get("to").text, block.at, block.path});
  report_duplicates(routes, "transfer", sink);
}

struct register_sections {
  section_spec reg, mqtt, database, http, transfer, root;
  register_sections()
      : reg(register_spec()), mqtt(mqtt_spec()), database(database_spec()), http(http_spec()),
        transfer(transfer_spec()) {
    root.name = "";
    root.check = check_root;
    root.keys = {
        make_key("register", vt::table).def("{}").of(reg).stored(store<&register_config::reg>),
        make_key("mqtt", vt::table).def("{}").of(mqtt).stored(store<&register_config::mqtt>),
        make_key("database", vt::table).def("{}").of(database).stored(store<&register_config::database>),
        make_key("http", vt::table).def("{}").of(http).stored(store<&register_config::http>),
        make_key("transfer", vt::table_array).of(transfer).stored(store<&register_config::transfers>),
    };
  }
};

const register_sections& sections() {
  static const register_sections s;
  return s;
}

register_load_result from_document(document_result document, const std::string& source_path) {
  register_load_result result;
  result.errors = std::move(document.errors);
  result.warnings = std::move(document.warnings);
  if (!document.root) return result;
  register_config config;
  store_section(*document.root, &config);
  // "batch" has no timer here: every PUBACK waits for its own sync round.
  if (config.reg.journal_sync == spool::sync_mode::batch) config.reg.journal_sync = spool::sync_mode::always;
  config.source_path = source_path;
  config.hash = config_hash(*document.root);
  result.config = std::move(config);
  return result;
}

}  // namespace

const section_spec& register_root_section() { return sections().root; }

std::string render_register_reference() { return render_reference(register_root_section(), intro, ""); }

register_load_result load_register_config_file(const std::string& path, const std::vector<std::string>& overrides) {
  document_result document = load_document_file(path, register_root_section(), overrides);
  const std::string source_path = document.absolute_path.empty() ? path : document.absolute_path;
  return from_document(std::move(document), source_path);
}

register_load_result load_register_config_text(std::string_view toml_text, const std::string& display_name,
                                               const std::vector<std::string>& overrides, const std::string& base_dir) {
  return from_document(load_document_text(toml_text, register_root_section(), display_name, overrides, base_dir),
                       display_name);
}

}  // namespace plant::central
