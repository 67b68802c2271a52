#include "common/spool/kernel_facts.hpp"

#include <fstream>
#include <string>

namespace plant::spool {

std::uint64_t boot_id_hash(std::string_view text) {
  // FNV-1a: stable across builds and architectures, which std::hash is not.
  std::uint64_t h = 14695981039346656037ull;
  for (const char c : text) {
    if (c == '\n' || c == ' ') continue;
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  if (text.empty()) return 0;
  return h == 0 ? 1 : h;  // 0 means unknown
}

std::uint64_t current_boot_id() {
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::string text;
  if (!(in >> text)) return 0;
  return boot_id_hash(text);
}

std::int64_t dirty_expire_ms() {
  std::ifstream in("/proc/sys/vm/dirty_expire_centisecs");
  long long centis = 0;
  if (!(in >> centis) || centis <= 0) return 30'000;
  return static_cast<std::int64_t>(centis) * 10;
}

}  // namespace plant::spool
