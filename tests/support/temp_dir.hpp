#pragma once
/// A private directory for one test: created with mkdtemp under $TMPDIR (or /tmp)
/// and removed with everything in it when the object dies, unless the environment
/// has PLANT_KEEP_TMP=1, in which case its path is printed so a failure can be
/// inspected afterwards.
#include <string>

namespace plant::test {

class temp_dir {
 public:
  /// Creates `$TMPDIR/<prefix>-XXXXXX`; throws std::system_error if that is impossible
  /// (a constructor has no other way to fail; gtest reports the exception as a failure).
  explicit temp_dir(const std::string& prefix = "plant-test");
  /// Creates `<parent>/<prefix>-XXXXXX` instead (e.g. on /dev/shm).
  temp_dir(const std::string& prefix, const std::string& parent);
  /// Removes the directory recursively unless PLANT_KEEP_TMP=1.
  ~temp_dir();
  temp_dir(temp_dir&& other) noexcept;
  temp_dir& operator=(temp_dir&& other) noexcept;
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  /// The absolute path of the directory, without a trailing slash.
  const std::string& path() const { return path_; }
  /// `path()/name`; nothing is created.
  std::string file(const std::string& name) const;
  /// Writes `text` to `path()/name`, making the directories on the way; returns the path.
  /// Throws std::runtime_error when it cannot.
  std::string write(const std::string& name, const std::string& text) const;

 private:
  void remove();

  std::string path_;
};

}  // namespace plant::test
