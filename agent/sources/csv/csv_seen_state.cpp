#include "agent/sources/csv/csv_seen_state.hpp"

#include <charconv>
#include <fstream>

namespace plant::sources {

namespace {

constexpr std::string_view header_v1 = "# plant-agent csv seen-state v1";
constexpr std::string_view header_v2 = "# plant-agent csv seen-state v2";

// Reads a decimal number (optionally negative) up to the next space; advances `text`.
template <class T>
bool take_number(std::string_view& text, T& out) {
  const auto space = text.find(' ');
  if (space == std::string_view::npos) return false;
  const std::string_view digits = text.substr(0, space);
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out);
  if (ec != std::errc{} || end != digits.data() + digits.size()) return false;
  text.remove_prefix(space + 1);
  return true;
}

bool parse_v2(std::string_view line, seen_file& out) {
  return take_number(line, out.identity.size) && take_number(line, out.identity.mtime_ns) &&
         take_number(line, out.identity.device) && take_number(line, out.identity.inode) &&
         take_number(line, out.identity.ctime_ns) && take_number(line, out.content_hash) &&
         unescape_file_name(line, out.name);
}

bool parse_v1(std::string_view line, seen_file& out) {
  out.legacy = true;
  return take_number(line, out.identity.size) && take_number(line, out.identity.mtime_ns) &&
         unescape_file_name(line, out.name);
}

}  // namespace

std::string escape_file_name(const std::string& name) {
  std::string out;
  for (char c : name) {
    if (c == '%') out += "%25";
    else if (c == '\n') out += "%0A";
    else if (c == '\r') out += "%0D";
    else out += c;
  }
  return out;
}

bool unescape_file_name(std::string_view text, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    const std::string_view code = text.substr(i + 1, 2);
    if (code == "25") out += '%';
    else if (code == "0A") out += '\n';
    else if (code == "0D") out += '\r';
    else return false;
    i += 2;
  }
  return !out.empty();
}

seen_state_load load_seen_state(const std::filesystem::path& path, std::size_t max_entries) {
  seen_state_load result;
  std::ifstream in(path);
  if (!in) return result;  // first start, or nothing kept yet
  std::string line;
  std::size_t line_number = 0, bad = 0, first_bad = 0;
  bool v2 = false;
  while (std::getline(in, line)) {
    ++line_number;
    if (line == header_v2) v2 = true;
    if (line == header_v1) v2 = false;
    if (line.empty() || line.front() == '#') continue;
    seen_file file;
    if (!(v2 ? parse_v2(line, file) : parse_v1(line, file))) {
      if (bad++ == 0) first_bad = line_number;
      continue;
    }
    if (result.files.size() >= max_entries) break;
    result.files.push_back(std::move(file));
  }
  if (bad > 0) {
    // The entry's file will simply be read again: at-least-once, never lost.
    result.problem = "state file '" + path.string() + "':" + std::to_string(first_bad) + ": " + std::to_string(bad) +
                     " malformed entr" + (bad == 1 ? "y" : "ies") + " ignored";
  }
  return result;
}

int save_seen_state(const std::filesystem::path& path, const std::vector<seen_file>& files) {
  std::string text(header_v2);
  text += '\n';
  for (const auto& f : files) {
    const auto& id = f.identity;
    text += std::to_string(id.size) + ' ' + std::to_string(id.mtime_ns) + ' ' + std::to_string(id.device) + ' ' +
            std::to_string(id.inode) + ' ' + std::to_string(id.ctime_ns) + ' ' + std::to_string(f.content_hash) + ' ' +
            escape_file_name(f.name) + '\n';
  }
  return write_file_durably(path, text);
}

}  // namespace plant::sources
