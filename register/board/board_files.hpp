#pragma once
/// The ops board's static files (register/board/*.html, .js, .css), built into
/// the binary by cmake/embed_files.cmake: plant networks have no internet and
/// the package installs nothing else for the board.
#include <map>
#include <string_view>

namespace plant::central::board {

/// "/board.js" -> its bytes.
const std::map<std::string_view, std::string_view>& files();

}  // namespace plant::central::board
