#pragma once
/// "Did you mean ...?": the one suggestion rule for config keys, enum values
/// and command-line options across the agent, plant-watch and the register.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace plant {

/// The candidate closest to `name`: the same ignoring case, at most two edits away
/// (a swapped pair counts as one) without being mostly different, or sharing a
/// prefix of at least three characters; nullopt when none is close.
std::optional<std::string> closest_match(std::string_view name, const std::vector<std::string>& candidates);

/// Optimal string alignment distance: Levenshtein plus adjacent transpositions.
std::size_t edit_distance(std::string_view a, std::string_view b);

}  // namespace plant
