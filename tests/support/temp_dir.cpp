#include "tests/support/temp_dir.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <vector>

namespace plant::test {

namespace {

std::string temp_root() {
  const char* tmpdir = std::getenv("TMPDIR");
  std::string root = (tmpdir != nullptr && *tmpdir != '\0') ? tmpdir : "/tmp";
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  return root;
}

bool keep_requested() {
  const char* keep = std::getenv("PLANT_KEEP_TMP");
  return keep != nullptr && std::string_view(keep) == "1";
}

}  // namespace

temp_dir::temp_dir(const std::string& prefix) : temp_dir(prefix, temp_root()) {}

temp_dir::temp_dir(const std::string& prefix, const std::string& parent) {
  std::string pattern = parent + "/" + prefix + "-XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (::mkdtemp(buffer.data()) == nullptr) {
    throw std::system_error(errno, std::generic_category(), "temp_dir: mkdtemp " + pattern);
  }
  path_ = buffer.data();
}

temp_dir::~temp_dir() { remove(); }

temp_dir::temp_dir(temp_dir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }

temp_dir& temp_dir::operator=(temp_dir&& other) noexcept {
  if (this != &other) {
    remove();
    path_ = std::move(other.path_);
    other.path_.clear();
  }
  return *this;
}

std::string temp_dir::file(const std::string& name) const { return path_ + "/" + name; }

std::string temp_dir::write(const std::string& name, const std::string& text) const {
  const std::filesystem::path target = file(name);
  std::filesystem::create_directories(target.parent_path());
  std::ofstream out(target, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + target.string());
  return target.string();
}

void temp_dir::remove() {
  if (path_.empty()) return;
  if (keep_requested()) {
    std::fprintf(stderr, "PLANT_KEEP_TMP=1: kept %s\n", path_.c_str());
  } else {
    // A destructor must not throw, and a leftover directory in /tmp is harmless
    // compared with aborting the test run, so the error is only reported.
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
    if (ec) std::fprintf(stderr, "temp_dir: cannot remove %s: %s\n", path_.c_str(), ec.message().c_str());
  }
  path_.clear();
}

}  // namespace plant::test
