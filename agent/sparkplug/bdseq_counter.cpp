#include "agent/sparkplug/bdseq_counter.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace plant::sparkplug {
namespace {

std::string errno_text() { return std::strerror(errno); }

}  // namespace

bdseq_counter::bdseq_counter(std::filesystem::path file) : file_(std::move(file)) {
  std::ifstream in(file_);
  if (!in) return;  // never connected in Sparkplug mode before
  std::string text;
  std::getline(in, text);
  std::size_t used = 0;
  unsigned long value = 0;
  try {
    value = std::stoul(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || value > 255) {
    last_error_ = file_.string() + ": line 1: expected the last bdSeq (0..255), found '" + text.substr(0, 40) +
                  "'; counting starts over at 0";
    return;
  }
  current_ = value;
}

std::uint64_t bdseq_counter::for_next_connect() {
  if (!used_) return current_;
  current_ = (current_ + 1) % 256;
  used_ = false;
  store();
  return current_;
}

void bdseq_counter::store() {
  std::error_code ec;
  std::filesystem::create_directories(file_.parent_path(), ec);
  const std::filesystem::path temp = file_.string() + ".tmp";
  const std::string text = std::to_string(current_) + "\n";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    last_error_ = temp.string() + ": " + errno_text() + " (bdSeq " + std::to_string(current_) + " kept in memory)";
    return;
  }
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fdatasync(fd) == 0;
  const std::string why = written ? "" : errno_text();
  ::close(fd);
  if (!written || ::rename(temp.c_str(), file_.c_str()) != 0) {
    last_error_ = file_.string() + ": " + (written ? errno_text() : why) + " (bdSeq " + std::to_string(current_) +
                  " kept in memory)";
    return;
  }
  // The rename is durable only once the directory is synced.
  const int dir = ::open(file_.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  last_error_.clear();
}

}  // namespace plant::sparkplug
