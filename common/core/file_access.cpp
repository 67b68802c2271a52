#include "common/core/file_access.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <system_error>

namespace plant {

std::string errno_text(int error) { return std::generic_category().message(error); }

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
