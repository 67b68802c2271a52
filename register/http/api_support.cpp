#include "register/http/api_support.hpp"

#include <cstdio>

#include "common/wire/time_format.hpp"

namespace plant::central::api {

db::connection& api_connection::get() {
  reused_ = conn_ && conn_->ok();
  if (!reused_) {
    conn_.reset();
    // While PostgreSQL is away a failed connect is remembered for a moment instead of
    // costing every request (on the io_context thread) a connect timeout.
    const auto now = std::chrono::steady_clock::now();
    if (now < retry_after_) throw db::pg_error(last_connect_error_, "", true);
    try {
      conn_ = std::make_unique<db::connection>(options_);
    } catch (const db::pg_error& e) {
      last_connect_error_ = e.what();
      retry_after_ = now + std::chrono::seconds(2);
      throw;
    }
  }
  return *conn_;
}

http::answer json_answer(std::string body, unsigned status) {
  http::answer a;
  a.status = status;
  a.content_type = "application/json";
  a.body = std::move(body);
  a.body += '\n';
  return a;
}

http::answer json_error(unsigned status, const std::string& message) {
  wire::json_writer w;
  w.begin_object().field("error", message).end_object();
  return json_answer(w.take(), status);
}

std::string as_ms(const std::string& column) { return "(extract(epoch from " + column + ") * 1000)::bigint"; }

void time_field(wire::json_writer& w, std::string_view name, const db::result& r, int row, int col) {
  w.key(name);
  if (r.is_null(row, col)) {
    w.null();
  } else {
    w.value(wire::format_rfc3339_ms(r.integer(row, col)));
  }
}

std::vector<std::string> parse_text_array(std::string_view text) {
  std::vector<std::string> out;
  if (text.size() < 2 || text.front() != '{') return out;
  std::size_t i = 1;
  while (i < text.size() && text[i] != '}') {
    std::string item;
    if (text[i] == '"') {
      ++i;
      while (i < text.size() && text[i] != '"') {
        if (text[i] == '\\' && i + 1 < text.size()) ++i;
        item += text[i++];
      }
      ++i;  // closing quote
    } else {
      while (i < text.size() && text[i] != ',' && text[i] != '}') item += text[i++];
    }
    out.push_back(std::move(item));
    if (i < text.size() && text[i] == ',') ++i;
  }
  return out;
}

range_params read_range(const std::map<std::string, std::string>& params, const std::string& key_name,
                        std::size_t default_limit, std::size_t max_rows) {
  range_params out;
  auto get = [&](const std::string& name) -> const std::string* {
    auto it = params.find(name);
    return it == params.end() ? nullptr : &it->second;
  };
  if (const auto* site = get("site")) out.site = *site;
  if (const auto* key = get(key_name)) out.key = *key;
  for (const char* name : {"from", "to"}) {
    if (const auto* text = get(name)) {
      epoch_ms t = 0;
      const std::string problem = wire::parse_rfc3339(*text, t);
      if (!problem.empty()) {
        out.error = std::string(name) + ": '" + text->substr(0, 64) + "' is " + problem;
        return out;
      }
      (std::string_view(name) == "from" ? out.from : out.to) = t;
    }
  }
  out.limit = std::min(default_limit, max_rows);
  if (const auto* text = get("limit")) {
    std::size_t used = 0;
    unsigned long long n = 0;
    try {
      n = std::stoull(*text, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != text->size() || n < 1 || n > max_rows || (*text)[0] == '-' || (*text)[0] == '+') {
      out.error = "limit: '" + text->substr(0, 32) + "' is not a whole number from 1 to " + std::to_string(max_rows);
      return out;
    }
    out.limit = static_cast<std::size_t>(n);
  }
  if (out.from && out.to && *out.from > *out.to) out.error = "from: is after to";
  return out;
}

}  // namespace plant::central::api
