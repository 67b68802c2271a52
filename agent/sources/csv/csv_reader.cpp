#include "agent/sources/csv/csv_reader.hpp"

#include <cstdio>

namespace plant::sources {

namespace {

constexpr std::string_view utf8_bom = "\xEF\xBB\xBF";

bool is_line_break(char c) { return c == '\n' || c == '\r'; }

std::string describe_byte(char c) {
  auto byte = static_cast<unsigned char>(c);
  if (byte >= 0x20 && byte < 0x7F) return std::string("'") + c + "'";
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "byte 0x%02X", byte);
  return buffer;
}

}  // namespace

std::string to_string(const csv_syntax_error& error) {
  return "line " + std::to_string(error.line) + ", column " + std::to_string(error.column) + ": " + error.reason;
}

csv_reader::csv_reader(std::string_view text, char delimiter) : csv_reader(text, delimiter, true, 1, true) {}

csv_reader::csv_reader(std::string_view text, char delimiter, bool final, std::size_t first_line, bool at_start)
    : text_(text), delimiter_(delimiter), final_(final), line_(first_line) {
  if (at_start && text_.substr(0, utf8_bom.size()) == utf8_bom) {
    pos_ = utf8_bom.size();
    // The BOM is invisible in an editor, so columns on line 1 count from after it.
    line_start_ = pos_;
  }
}

void csv_reader::consume_line_end() {
  if (text_[pos_] == '\r' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n') {
    pos_ += 2;
  } else {
    ++pos_;
  }
  ++line_;
  line_start_ = pos_;
}

std::size_t csv_reader::column_of(std::size_t pos) const {
  // Callers set line_start_ to the start of the error's line before asking.
  std::size_t column = 1;
  for (std::size_t i = line_start_; i < pos; ++i) {
    // A technician counts characters, not bytes: skip UTF-8 continuation bytes.
    if ((static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80) ++column;
  }
  return column;
}

bool csv_reader::fail(csv_record& out, std::size_t pos, std::size_t error_line, std::size_t error_line_start,
                      std::string reason, std::size_t record_start, std::size_t record_line,
                      std::size_t record_line_start) {
  // Resynchronising needs the end of the line the record began on; in a piece that
  // does not hold it, wait for the next piece (the error is found again there).
  if (!final_) {
    std::size_t end = record_start;
    while (end < text_.size() && !is_line_break(text_[end])) ++end;
    if (end + 1 >= text_.size()) return stop_for_more(record_start, record_line, record_line_start);
  }
  line_start_ = error_line_start;
  out.error = csv_syntax_error{error_line, column_of(pos), std::move(reason)};
  out.fields.clear();
  out.blank = false;

  // Resynchronise at the physical line after the one the record started on:
  // a stray quote then costs one row instead of swallowing the rest of the file.
  pos_ = record_start;
  line_ = record_line;
  while (pos_ < text_.size() && !is_line_break(text_[pos_])) ++pos_;
  if (pos_ < text_.size()) {
    consume_line_end();
  } else {
    line_start_ = pos_;
  }
  return true;
}

bool csv_reader::stop_for_more(std::size_t record_start, std::size_t record_line, std::size_t record_line_start) {
  pos_ = record_start;
  line_ = record_line;
  line_start_ = record_line_start;
  needs_more_ = true;
  return false;
}

bool csv_reader::next(csv_record& out) {
  const std::size_t n = text_.size();
  needs_more_ = false;
  if (pos_ >= n) return false;
  const std::size_t record_line_start = line_start_;

  out.fields.clear();
  out.error.reset();
  out.blank = false;
  out.line = line_;
  const std::size_t record_start = pos_;
  const std::size_t record_line = line_;
  bool any_quoted = false;
  std::string field;

  while (true) {
    field.clear();
    if (pos_ < n && text_[pos_] == '"') {
      any_quoted = true;
      const std::size_t open_pos = pos_;
      const std::size_t open_line = line_;
      const std::size_t open_line_start = line_start_;
      ++pos_;
      bool closed = false;
      while (pos_ < n) {
        const char c = text_[pos_];
        if (c == '"') {
          if (pos_ + 1 < n && text_[pos_ + 1] == '"') {
            field += '"';
            pos_ += 2;
            continue;
          }
          ++pos_;
          closed = true;
          break;
        }
        if (is_line_break(c)) {
          // Kept as written; only the physical line count needs to follow it.
          const std::size_t begin = pos_;
          consume_line_end();
          field.append(text_.substr(begin, pos_ - begin));
          continue;
        }
        field += c;
        ++pos_;
      }
      if (!closed) {
        if (!final_) return stop_for_more(record_start, record_line, record_line_start);
        return fail(out, open_pos, open_line, open_line_start, "unterminated quoted field", record_start, record_line,
                    record_line_start);
      }
      if (pos_ >= n) {
        if (!final_) return stop_for_more(record_start, record_line, record_line_start);
        out.fields.push_back(field);
        break;
      }
      const char after = text_[pos_];
      if (after == delimiter_) {
        out.fields.push_back(field);
        ++pos_;
        continue;
      }
      if (is_line_break(after)) {
        // A CR at the very end of a piece may be half of a CRLF.
        if (!final_ && after == '\r' && pos_ + 1 >= n) return stop_for_more(record_start, record_line, record_line_start);
        out.fields.push_back(field);
        consume_line_end();
        break;
      }
      return fail(out, pos_, line_, line_start_, "unexpected " + describe_byte(after) + " after a closing quote",
                  record_start, record_line, record_line_start);
    }

    const std::size_t begin = pos_;
    while (pos_ < n) {
      const char c = text_[pos_];
      if (c == delimiter_ || is_line_break(c)) break;
      if (c == '"') {
        return fail(out, pos_, line_, line_start_, "quote inside an unquoted field", record_start, record_line,
                    record_line_start);
      }
      ++pos_;
    }
    if (pos_ >= n && !final_) return stop_for_more(record_start, record_line, record_line_start);
    out.fields.emplace_back(text_.substr(begin, pos_ - begin));
    if (pos_ >= n) break;
    if (text_[pos_] == delimiter_) {
      ++pos_;
      continue;
    }
    if (!final_ && text_[pos_] == '\r' && pos_ + 1 >= n) return stop_for_more(record_start, record_line, record_line_start);
    consume_line_end();
    break;
  }

  if (out.fields.size() == 1 && !any_quoted) {
    bool blank = true;
    for (char c : out.fields.front()) {
      if (c != ' ' && c != '\t') {
        blank = false;
        break;
      }
    }
    out.blank = blank;
  }
  return true;
}

}  // namespace plant::sources
