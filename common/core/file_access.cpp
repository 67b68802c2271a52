#include "common/core/file_access.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <system_error>

namespace plant {

std::string errno_text(int error) { return std::generic_category().message(error); }

std::string read_secret_file(const std::string& path, std::string& secret) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) return "cannot open: " + errno_text(errno);
  std::string text;
  char buffer[4096];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0) {
    text.append(buffer, n);
    if (text.size() > 65536) {
      std::fclose(file);
      return "larger than 64 KiB, not a password file";
    }
  }
  const bool failed = std::ferror(file) != 0;
  const int read_errno = errno;
  std::fclose(file);
  if (failed) return "cannot read: " + errno_text(read_errno);
  if (!text.empty() && text.back() == '\n') {
    text.pop_back();
    if (!text.empty() && text.back() == '\r') text.pop_back();
  }
  secret = std::move(text);
  return {};
}

std::string chown_command(const std::string& dir) {
  const uid_t uid = ::geteuid();
  const gid_t gid = ::getegid();
  // getpwuid/getgrgid read /etc/passwd and /etc/group: only on this error path, never on the loop.
  const passwd* user = ::getpwuid(uid);
  const group* grp = ::getgrgid(gid);
  const std::string owner = user != nullptr ? user->pw_name : std::to_string(uid);
  const std::string group_name = grp != nullptr ? grp->gr_name : std::to_string(gid);
  return "chown -R " + owner + ":" + group_name + " " + dir;
}

}  // namespace plant
