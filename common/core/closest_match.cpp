#include "common/core/closest_match.hpp"

#include <algorithm>
#include <cctype>

namespace plant {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::size_t edit_distance(std::string_view a, std::string_view b) {
  const std::size_t n = a.size(), m = b.size();
  // Three rows suffice: a transposition looks two rows back.
  std::vector<std::size_t> before(m + 1), previous(m + 1), current(m + 1);
  for (std::size_t j = 0; j <= m; ++j) previous[j] = j;
  for (std::size_t i = 1; i <= n; ++i) {
    current[0] = i;
    for (std::size_t j = 1; j <= m; ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        current[j] = std::min(current[j], before[j - 2] + 1);
    }
    before.swap(previous);
    previous.swap(current);
  }
  return previous[m];
}

std::optional<std::string> closest_match(std::string_view name, const std::vector<std::string>& candidates) {
  const std::string wanted = lower(name);
  std::optional<std::string> best;
  std::size_t best_rank = 100;
  for (const std::string& candidate : candidates) {
    const std::string c = lower(candidate);
    std::size_t rank = 100;
    if (c == wanted) {
      rank = 0;
    } else {
      const std::size_t distance = edit_distance(wanted, c);
      // A distance as long as the word itself means nothing is shared ("x" vs "id").
      if (distance <= 2 && distance < wanted.size()) {
        rank = distance;
      } else if (wanted.size() >= 3 &&
                 (c.compare(0, wanted.size(), wanted) == 0 || wanted.compare(0, c.size(), c) == 0)) {
        rank = 3;
      }
    }
    if (rank < best_rank) {
      best_rank = rank;
      best = candidate;
    }
  }
  return best;
}

}  // namespace plant
