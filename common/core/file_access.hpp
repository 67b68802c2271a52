#pragma once
/// File access errors in words. The one wording of "this process may not use that directory": a state
/// directory left behind by a run as another user (root, then the service user)
/// is the usual cause, and the fix is a chown the technician can paste.
#include <string>

namespace plant {

/// The text of an errno value ("Permission denied"), for messages that name a file.
std::string errno_text(int error);

/// Reads a secret (a password) from `path` into `secret`: the whole file, without one
/// trailing line end (editors add one; a password may end in blanks), at most 64 KiB.
/// Returns "" or what went wrong ("cannot open: Permission denied"), never the content.
std::string read_secret_file(const std::string& path, std::string& secret);

/// "chown -R plant-agent:plant-agent /var/lib/plant-agent": this process's user and
/// group by name (by number when they have none), recursively over `dir`.
std::string chown_command(const std::string& dir);

}  // namespace plant
