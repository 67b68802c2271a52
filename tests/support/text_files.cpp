#include "tests/support/text_files.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace plant::test {

namespace {

testing::AssertionResult put(const std::string& path, const std::string& text, std::ios::openmode mode) {
  std::ofstream out(path, mode | std::ios::binary);
  if (!out) return testing::AssertionFailure() << "cannot open " << path << " for writing: " << std::strerror(errno);
  out << text;
  out.flush();
  if (!out) return testing::AssertionFailure() << "cannot write " << path << ": " << std::strerror(errno);
  return testing::AssertionSuccess();
}

}  // namespace

testing::AssertionResult write_file(const std::string& path, const std::string& text) {
  return put(path, text, std::ios::trunc);
}

testing::AssertionResult append_file(const std::string& path, const std::string& text) {
  return put(path, text, std::ios::app);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

bool file_exists(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0;
}

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++n;
  return n;
}

}  // namespace plant::test
