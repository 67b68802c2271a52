#pragma once
/// An RFC 4180 tokenizer over text already in memory: no I/O, no allocation
/// beyond the fields it returns. A syntax error spoils one record only; the
/// reader then carries on at the next physical line.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace plant::sources {

/// Where and why a record could not be tokenized.
struct csv_syntax_error {
  std::size_t line = 0;    ///< 1-based physical line of the offending character
  std::size_t column = 0;  ///< 1-based column (UTF-8 code points) on that line
  std::string reason;      ///< e.g. "unterminated quoted field"
};

/// One record (row) of the input.
struct csv_record {
  std::size_t line = 0;                  ///< 1-based physical line where the record starts
  std::vector<std::string> fields;       ///< unquoted, unescaped values; empty when `error` is set
  bool blank = false;                    ///< the line held nothing but spaces or tabs
  std::optional<csv_syntax_error> error; ///< set when the record was malformed
};

/// "line 5, column 7: unterminated quoted field".
std::string to_string(const csv_syntax_error& error);

/// Reads records one at a time from `text`, which must outlive the reader.
/// Accepts LF, CRLF and lone CR line ends, quoted fields with "" escapes and
/// line breaks inside quotes, a UTF-8 byte order mark at the start and a
/// missing final line end.
///
/// Text may come in pieces (a big file read a window at a time): a reader over
/// a piece that is not the end of the input (`final` false) stops before a
/// record the piece may cut, and says where, so the caller carries that tail
/// into the next piece.
class csv_reader {
 public:
  /// `delimiter` is one byte, usually ',' or ';' or '\t'; it must not be '"', CR or LF.
  explicit csv_reader(std::string_view text, char delimiter = ',');
  /// A piece of the input: `final` when nothing follows it, `first_line` the physical line it
  /// starts on, `at_start` when it begins the input (a byte order mark is skipped only there).
  csv_reader(std::string_view text, char delimiter, bool final, std::size_t first_line, bool at_start);

  /// Fills `out` with the next record; false when the piece is exhausted (see needs_more()).
  bool next(csv_record& out);
  /// After next() returned false: true when the piece ended inside a record that may
  /// continue in the next piece; it starts at consumed().
  bool needs_more() const { return needs_more_; }
  /// Bytes of the piece fully read: the records returned so far.
  std::size_t consumed() const { return pos_; }
  /// The physical line the next record starts on.
  std::size_t line() const { return line_; }

 private:
  /// Consumes the line end at pos_ (CRLF counts as one) and starts a new physical line.
  void consume_line_end();
  std::size_t column_of(std::size_t pos) const;
  /// Records the error and resyncs at the next physical line; false (rewound) when the
  /// piece does not hold the end of that line yet.
  bool fail(csv_record& out, std::size_t pos, std::size_t error_line, std::size_t error_line_start, std::string reason,
            std::size_t record_start, std::size_t record_line, std::size_t record_line_start);

  /// The piece ended inside the record that began at `record_start`: rewind to it.
  bool stop_for_more(std::size_t record_start, std::size_t record_line, std::size_t record_line_start);

  std::string_view text_;
  char delimiter_;
  bool final_ = true;
  bool needs_more_ = false;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
  std::size_t line_start_ = 0;  ///< offset of the first byte of the current physical line
};

}  // namespace plant::sources
