#pragma once
/// Whole-file reads and writes for tests.
#include <gtest/gtest.h>

#include <string>

namespace plant::test {

/// Replaces the file's content with `text`; fails with the path and the reason.
testing::AssertionResult write_file(const std::string& path, const std::string& text);
/// Appends `text` to the file (creating it); fails with the path and the reason.
testing::AssertionResult append_file(const std::string& path, const std::string& text);
/// The file's content; empty when it does not exist or cannot be read (check file_exists to tell apart).
std::string read_file(const std::string& path);
/// True when `path` exists (any type).
bool file_exists(const std::string& path);
/// How often `needle` occurs in `text` (not overlapping), e.g. lines in a log.
std::size_t count_of(const std::string& text, const std::string& needle);

}  // namespace plant::test
