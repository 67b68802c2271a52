#pragma once
/// `<state_dir>/csv/<source>.seen`: the files a CSV source with after = "keep" has
/// read, so a restart does not publish them again. One line per file: its
/// identity, the hash of the content that was read, and its name.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "agent/sources/csv/csv_files.hpp"

namespace plant::sources {

/// One file that was read.
struct seen_file {
  std::string name;
  csv_file_identity identity;
  std::uint64_t content_hash = 0;  ///< FNV-1a 64 of what was read
  bool legacy = false;             ///< from a v1 state file: only size and mtime are known
};

/// What load() found.
struct seen_state_load {
  std::vector<seen_file> files;
  std::string problem;  ///< "state file 'X':12: 3 malformed entries ignored", or ""
};

/// Reads the state file (v2, or v1 whose entries know only size and mtime). A missing file is an empty state.
seen_state_load load_seen_state(const std::filesystem::path& path, std::size_t max_entries);

/// Writes the state file durably; 0 or an errno value.
int save_seen_state(const std::filesystem::path& path, const std::vector<seen_file>& files);

/// A file name escaped for the line format (anything but '/' and NUL is allowed in a name).
std::string escape_file_name(const std::string& name);
/// The reverse; false for a malformed escape.
bool unescape_file_name(std::string_view text, std::string& out);

}  // namespace plant::sources
