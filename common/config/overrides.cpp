#include "common/config/overrides.hpp"

#include <charconv>
#include <memory>
#include <optional>

#include "common/config/schema.hpp"
#include "common/core/text.hpp"

namespace plant::config {
namespace {

// A control character cannot appear in a file name passed by a user, so the tag
// cannot be mistaken for a real file.
constexpr std::string_view override_tag = "\x01--set:";

std::string tag_of(int index) { return std::string(override_tag) + std::to_string(index); }

std::string trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return "";
  const auto last = s.find_last_not_of(" \t");
  return std::string(s.substr(first, last - first + 1));
}

std::optional<std::size_t> as_index(std::string_view segment) {
  if (segment.empty() || segment.size() > 9) return std::nullopt;
  std::size_t value = 0;
  const auto [end, ec] = std::from_chars(segment.data(), segment.data() + segment.size(), value);
  if (ec != std::errc{} || end != segment.data() + segment.size()) return std::nullopt;
  return value;
}

// The parsed one-line document "v = ..." whose node "v" carries the override's tag.
// `text` is valid UTF-8 without NUL (apply_one checks), so quoting it always parses.
toml::table parse_value(const std::string& text, const std::string& tag) {
  try {
    toml::table doc = toml::parse(std::string_view("v = " + text), std::string(tag));
    // "1\nx = 2" parses but is two keys: it was not meant as one value.
    if (doc.size() == 1 && doc.contains("v")) return doc;
  } catch (const toml::parse_error&) {
    // Not a TOML value: a bare word such as a host name or a duration.
  }
  return toml::parse(std::string_view("v = " + toml_quote(text)), std::string(tag));
}

toml::table tagged_table(const std::string& tag) {
  toml::table doc = parse_value("{}", tag);
  return std::move(*doc.get("v")->as_table());
}

toml::key tagged_key(const std::string& name, const std::string& tag) {
  toml::source_region region;
  region.begin = toml::source_position{1, 1};
  region.end = toml::source_position{1, 1};
  region.path = std::make_shared<const std::string>(tag);
  return toml::key(name, std::move(region));
}

// Moves `node` (any TOML type) into `place`, keeping its source tag.
template <class Place>
void move_into(toml::node& node, Place&& place) {
  node.visit([&](auto&& concrete) { place(std::move(concrete)); });
}

std::string node_kind(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::array: return "an array";
    default: return "a date or time";
  }
}

void apply_one(toml::table& root, const std::string& text, int index, diagnostic_sink& sink) {
  const position at{override_file, index, 1};
  // A shell passes any bytes; toml++ must only see the UTF-8 text TOML allows.
  if (!valid_utf8(text) || text.find('\0') != std::string::npos) {
    sink.error(at, "", "override " + quoted_excerpt(text) + " is not valid UTF-8 text");
    return;
  }
  const auto eq = text.find('=');
  const std::string key_path = eq == std::string::npos ? std::string() : trim(std::string_view(text).substr(0, eq));
  std::vector<std::string> segments;
  if (!key_path.empty()) {
    std::size_t start = 0;
    while (true) {
      const auto dot = key_path.find('.', start);
      segments.push_back(trim(std::string_view(key_path).substr(start, dot == std::string::npos ? dot : dot - start)));
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
  }
  bool well_formed = !segments.empty();
  for (const std::string& s : segments) well_formed = well_formed && !s.empty();
  if (!well_formed) {
    sink.error(at, "", "malformed override '" + text + "': expected key.path=value");
    return;
  }
  const std::string tag = tag_of(index);
  toml::table value_doc = parse_value(trim(std::string_view(text).substr(eq + 1)), tag);
  toml::node& value = *value_doc.get("v");

  toml::node* current = &root;
  std::string walked;  // the path so far, as typed
  for (std::size_t s = 0; s < segments.size(); ++s) {
    const std::string& segment = segments[s];
    const bool last = s + 1 == segments.size();
    if (toml::table* table = current->as_table()) {
      if (last) {
        move_into(value, [&](auto&& v) { table->insert_or_assign(tagged_key(segment, tag), std::move(v)); });
        return;
      }
      if (table->get(segment) == nullptr) {
        // The next segment decides: an index means an array of tables.
        if (as_index(segments[s + 1])) {
          toml::table doc = parse_value("[]", tag);
          move_into(*doc.get("v"), [&](auto&& v) { table->insert_or_assign(tagged_key(segment, tag), std::move(v)); });
        } else {
          table->insert_or_assign(tagged_key(segment, tag), tagged_table(tag));
        }
      }
      current = table->get(segment);
    } else if (toml::array* array = current->as_array()) {
      const auto i = as_index(segment);
      if (!i) {
        sink.error(at, key_path, "'" + walked + "' is an array; use an index, e.g. " + walked + ".0");
        return;
      }
      if (*i > array->size()) {
        sink.error(at, key_path,
                   "index " + segment + " is out of range 0.." + std::to_string(array->size()) + " for '" + walked +
                       "' (" + std::to_string(array->size()) + " adds an entry)");
        return;
      }
      if (last) {
        if (*i == array->size())
          move_into(value, [&](auto&& v) { array->push_back(std::move(v)); });
        else
          move_into(value, [&](auto&& v) { array->replace(array->cbegin() + static_cast<std::ptrdiff_t>(*i), std::move(v)); });
        return;
      }
      if (*i == array->size()) array->push_back(tagged_table(tag));
      current = array->get(*i);
    } else {
      sink.error(at, key_path, "'" + walked + "' is " + node_kind(*current) + ", not a table");
      return;
    }
    walked += walked.empty() ? segment : "." + segment;
  }
}

}  // namespace

position locate(const toml::source_region& region) {
  if (!region.path) return position{};
  const std::string& path = *region.path;
  if (path.compare(0, override_tag.size(), override_tag) == 0)
    return position{override_file, std::stoi(path.substr(override_tag.size())), 1};
  return position{file_name(region.path), static_cast<int>(region.begin.line), static_cast<int>(region.begin.column)};
}

void apply_overrides(toml::table& root, const std::vector<std::string>& overrides, diagnostic_sink& sink) {
  for (std::size_t i = 0; i < overrides.size(); ++i) apply_one(root, overrides[i], static_cast<int>(i + 1), sink);
}

}  // namespace plant::config
