#include "register/http/operator_tokens.hpp"

#include <set>

namespace plant::central::api {

namespace {

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

bool valid_token(std::string_view token) {
  for (char c : token)
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Compares every byte whatever the first difference, so the time taken says nothing
// about how much of a guessed token was right.
bool same_secret(std::string_view a, std::string_view b) {
  unsigned char difference = a.size() == b.size() ? 0 : 1;
  const std::size_t n = std::max(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    difference |= static_cast<unsigned char>(x ^ y);
  }
  return difference == 0;
}

}  // namespace

tokens_parse_result parse_operator_tokens(std::string_view text, const std::string& file_name) {
  tokens_parse_result result;
  std::set<std::string> names, tokens;
  std::size_t line_number = 0;
  while (!text.empty()) {
    ++line_number;
    const std::size_t end = text.find('\n');
    std::string_view line = trim(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    if (line.empty() || line.front() == '#') continue;
    const std::string where = file_name + ":" + std::to_string(line_number) + ": ";
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      result.errors.push_back(where + "expected \"name:token\"");
      continue;
    }
    const std::string name(trim(line.substr(0, colon)));
    const std::string token(trim(line.substr(colon + 1)));
    if (!valid_name(name)) {
      // Neither the name nor the token is echoed: a line written the wrong way round
      // ("token:name") would put the token in the log.
      result.errors.push_back(where + "the operator name (before ':') must be 1-64 letters, digits, '-', '_' or '.'");
      continue;
    }
    if (token.size() < min_token_length || !valid_token(token)) {
      result.errors.push_back(where + "the token (after ':') must be at least " + std::to_string(min_token_length) +
                              " printable characters without spaces");
      continue;
    }
    if (!names.insert(name).second) {
      result.errors.push_back(where + "this operator name is listed on an earlier line too");
      continue;
    }
    if (!tokens.insert(token).second) {
      result.errors.push_back(where + "this token is also another operator's");
      continue;
    }
    result.operators.push_back({name, token});
  }
  return result;
}

std::string operator_tokens::operator_for(std::string_view authorization) const {
  constexpr std::string_view scheme = "Bearer ";
  if (authorization.size() <= scheme.size()) return "";
  // The scheme is case-insensitive (RFC 7235).
  for (std::size_t i = 0; i < scheme.size(); ++i) {
    const char c = authorization[i];
    const char lower = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    const char want = (scheme[i] >= 'A' && scheme[i] <= 'Z') ? static_cast<char>(scheme[i] - 'A' + 'a') : scheme[i];
    if (lower != want) return "";
  }
  const std::string_view token = trim(authorization.substr(scheme.size()));
  std::string found;
  for (const auto& op : operators_)
    if (same_secret(op.token, token) && found.empty()) found = op.name;
  return found;
}

}  // namespace plant::central::api
