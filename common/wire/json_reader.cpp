#include "common/wire/json_reader.hpp"

#include <cmath>
#include <cstdlib>
#include <stdexcept>

#include "common/core/text.hpp"

namespace plant::wire {

const json_value* json_value::find(const std::string& name) const {
  if (type_ != kind::object) return nullptr;
  auto it = members_.find(name);
  return it == members_.end() ? nullptr : &it->second;
}

json_value json_value::make_bool(bool v) {
  json_value j(kind::boolean);
  j.flag_ = v;
  return j;
}
json_value json_value::make_number(double v) {
  json_value j(kind::number);
  j.number_ = v;
  return j;
}
json_value json_value::make_string(std::string v) {
  json_value j(kind::string);
  j.text_ = std::move(v);
  return j;
}
json_value json_value::make_array(std::vector<json_value> items) {
  json_value j(kind::array);
  j.items_ = std::move(items);
  return j;
}
json_value json_value::make_object(std::map<std::string, json_value> members) {
  json_value j(kind::object);
  j.members_ = std::move(members);
  return j;
}

const char* kind_name(json_value::kind k) {
  switch (k) {
    case json_value::kind::null: return "null";
    case json_value::kind::boolean: return "a boolean";
    case json_value::kind::number: return "a number";
    case json_value::kind::string: return "a string";
    case json_value::kind::array: return "an array";
    case json_value::kind::object: return "an object";
  }
  return "a value";
}

namespace {

struct parse_failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class parser {
 public:
  parser(std::string_view text, std::size_t max_depth) : text_(text), max_depth_(max_depth) {}

  json_value document() {
    skip_space();
    json_value v = value(0);
    skip_space();
    if (pos_ != text_.size()) fail("unexpected text after the value");
    return v;
  }

  std::size_t position() const { return pos_; }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw parse_failure("at byte " + std::to_string(pos_) + ": " + what);
  }

  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return at_end() ? '\0' : text_[pos_]; }

  void skip_space() {
    while (!at_end() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }

  void expect_word(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) fail("expected a value");
    pos_ += word.size();
  }

  json_value value(std::size_t depth) {
    if (at_end()) fail("expected a value, found the end");
    switch (peek()) {
      case '{': return object(depth + 1);
      case '[': return array(depth + 1);
      case '"': return json_value::make_string(string());
      case 't': expect_word("true"); return json_value::make_bool(true);
      case 'f': expect_word("false"); return json_value::make_bool(false);
      case 'n': expect_word("null"); return json_value::make_null();
      default: return number();
    }
  }

  json_value object(std::size_t depth) {
    if (depth > max_depth_) fail("nested deeper than " + std::to_string(max_depth_) + " levels");
    ++pos_;  // '{'
    std::map<std::string, json_value> members;
    skip_space();
    if (peek() == '}') {
      ++pos_;
      return json_value::make_object(std::move(members));
    }
    while (true) {
      skip_space();
      if (peek() != '"') fail("expected a member name in double quotes");
      const std::size_t name_at = pos_;
      std::string name = string();
      skip_space();
      if (peek() != ':') fail("expected ':' after a member name");
      ++pos_;
      skip_space();
      json_value v = value(depth);
      if (!members.emplace(name, std::move(v)).second) {
        pos_ = name_at;
        fail("member \"" + name.substr(0, 64) + "\" appears twice");
      }
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == '}') {
        ++pos_;
        return json_value::make_object(std::move(members));
      }
      fail("expected ',' or '}' in an object");
    }
  }

  json_value array(std::size_t depth) {
    if (depth > max_depth_) fail("nested deeper than " + std::to_string(max_depth_) + " levels");
    ++pos_;  // '['
    std::vector<json_value> items;
    skip_space();
    if (peek() == ']') {
      ++pos_;
      return json_value::make_array(std::move(items));
    }
    while (true) {
      skip_space();
      items.push_back(value(depth));
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == ']') {
        ++pos_;
        return json_value::make_array(std::move(items));
      }
      fail("expected ',' or ']' in an array");
    }
  }

  unsigned hex4() {
    if (pos_ + 4 > text_.size()) fail("a \\u escape needs four hex digits");
    unsigned v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = text_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f') v |= static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= static_cast<unsigned>(c - 'A' + 10);
      else fail("a \\u escape needs four hex digits");
    }
    return v;
  }

  static void append_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  std::string string() {
    ++pos_;  // opening quote
    std::string out;
    while (true) {
      if (at_end()) fail("a string is not closed");
      const char c = text_[pos_];
      if (c == '"') {
        // A body's strings go into a database and onto pages: refuse what neither can hold.
        if (out.find('\0') != std::string::npos) fail("a string must not hold NUL (\\u0000)");
        if (!valid_utf8(out)) fail("a string must be valid UTF-8");
        ++pos_;
        return out;
      }
      if (static_cast<unsigned char>(c) < 0x20) fail("a control character inside a string must be escaped");
      if (c != '\\') {
        out += c;
        ++pos_;
        continue;
      }
      ++pos_;
      if (at_end()) fail("a string is not closed");
      const char e = text_[pos_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          unsigned cp = hex4();
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (text_.substr(pos_, 2) != "\\u") fail("a high surrogate must be followed by a low one");
            pos_ += 2;
            const unsigned low = hex4();
            if (low < 0xDC00 || low > 0xDFFF) fail("a high surrogate must be followed by a low one");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            fail("a low surrogate without a high one");
          }
          append_utf8(out, cp);
          break;
        }
        default:
          pos_ -= 2;  // point at the backslash
          fail(std::string("unknown escape \\") + e);
      }
    }
  }

  json_value number() {
    const std::size_t start = pos_;
    auto digits = [&] {
      const std::size_t from = pos_;
      while (!at_end() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
      return pos_ - from;
    };
    if (peek() == '-') ++pos_;
    if (peek() == '0') {
      ++pos_;
    } else if (digits() == 0) {
      pos_ = start;
      fail("expected a value");
    }
    if (peek() == '.') {
      ++pos_;
      if (digits() == 0) fail("expected a digit after '.'");
    }
    if (peek() == 'e' || peek() == 'E') {
      ++pos_;
      if (peek() == '+' || peek() == '-') ++pos_;
      if (digits() == 0) fail("expected a digit in the exponent");
    }
    const std::string literal(text_.substr(start, pos_ - start));
    const double v = std::strtod(literal.c_str(), nullptr);
    if (!std::isfinite(v)) {
      pos_ = start;
      fail("a number out of range");
    }
    return json_value::make_number(v);
  }

  std::string_view text_;
  std::size_t max_depth_;
  std::size_t pos_ = 0;
};

}  // namespace

json_parse_result parse_json(std::string_view text, std::size_t max_depth) {
  json_parse_result result;
  parser p(text, max_depth);
  try {
    result.value = p.document();
  } catch (const parse_failure& e) {
    result.error = e.what();
  }
  return result;
}

}  // namespace plant::wire
