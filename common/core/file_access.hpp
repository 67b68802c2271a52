#pragma once
/// File access errors in words. The one wording of "this process may not use that directory": a state
/// directory left behind by a run as another user (root, then the service user)
/// is the usual cause, and the fix is a chown the technician can paste.
#include <string>

namespace plant {

/// The text of an errno value ("Permission denied"), for messages that name a file.
std::string errno_text(int error);

/// "chown -R plant-agent:plant-agent /var/lib/plant-agent": this process's user and
/// group by name (by number when they have none), recursively over `dir`.
std::string chown_command(const std::string& dir);

}  // namespace plant
