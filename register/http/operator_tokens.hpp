#pragma once
/// The operators who may acknowledge and snooze shortages: http.tokens_file
/// read into name ↔ token, and a request's "Authorization: Bearer <token>"
/// matched against it without leaking through timing which bytes matched.
#include <string>
#include <string_view>
#include <vector>

namespace plant::central::api {

struct operator_token {
  std::string name;
  std::string token;
};

/// What parse_operator_tokens found; `errors` name "file:line: reason" and never the token.
struct tokens_parse_result {
  std::vector<operator_token> operators;
  std::vector<std::string> errors;
};

inline constexpr std::size_t min_token_length = 16;

/// "name:token" per line; blank lines and lines starting with '#' are skipped.
/// Names follow the config's name rule; tokens are 16+ printable characters
/// without white space; a name or a token given twice is an error.
tokens_parse_result parse_operator_tokens(std::string_view text, const std::string& file_name);

class operator_tokens {
 public:
  operator_tokens() = default;
  explicit operator_tokens(std::vector<operator_token> operators) : operators_(std::move(operators)) {}

  /// False when no tokens file is configured: every write is refused.
  bool writes_enabled() const { return !operators_.empty(); }
  /// The operator whose token `authorization` ("Bearer <token>") carries, "" for none.
  std::string operator_for(std::string_view authorization) const;

 private:
  std::vector<operator_token> operators_;
};

}  // namespace plant::central::api
