#pragma once
/// Two pseudo-terminals joined by socat, standing in for a serial line (Modbus RTU):
/// what is written to one end is read from the other.
#include <gtest/gtest.h>

#include <string>

#include "tests/support/child_process.hpp"

namespace plant::test {

class socat_pty_pair {
 public:
  /// Starts socat with links `dir/pty-a` and `dir/pty-b` (raw, no echo) and waits
  /// (at most 5 s) until it is passing data; a failure includes socat's stderr.
  testing::AssertionResult start(const std::string& dir);
  /// One end (a symlink to /dev/pts/N).
  const std::string& a_path() const { return a_path_; }
  /// The other end.
  const std::string& b_path() const { return b_path_; }
  /// Ends socat (also done by the destructor, via child_process).
  void stop() { process_.kill9(); }

 private:
  std::string a_path_;
  std::string b_path_;
  child_process process_;
};

}  // namespace plant::test
