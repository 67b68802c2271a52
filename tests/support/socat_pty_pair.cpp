#include "tests/support/socat_pty_pair.hpp"

#include "tests/support/wait_until.hpp"

namespace plant::test {

testing::AssertionResult socat_pty_pair::start(const std::string& dir) {
  a_path_ = dir + "/pty-a";
  b_path_ = dir + "/pty-b";
  process_spec spec;
  // -d -d makes socat announce its data transfer loop, which is the moment both
  // ends exist and bytes flow; the links alone appear one after the other.
  spec.argv = {"socat", "-d", "-d", "pty,raw,echo=0,link=" + a_path_, "pty,raw,echo=0,link=" + b_path_};
  spec.output_dir = dir;
  spec.name = "socat";
  if (auto started = process_.start(spec); !started) return started;
  const bool ready = wait_until(
      [&] { return !process_.running() || process_.stderr_text().find("starting data transfer loop") != std::string::npos; },
      std::chrono::seconds(5), std::chrono::milliseconds(10));
  if (ready && process_.running()) return testing::AssertionSuccess();
  const std::string why = process_.running() ? "socat did not start within 5 s"
                                             : "socat exited with " + process_.status()->describe();
  process_.kill9();
  return testing::AssertionFailure() << "socat_pty_pair: " << why << "; stderr:\n" << process_.stderr_text();
}

}  // namespace plant::test
