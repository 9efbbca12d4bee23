// What the SQLite store's tests share: a scratch directory per test, removed at the end, and
// stores on files in it.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

#include "tegata/store/sqlite.hpp"

namespace sqlite_test {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it when this goes.
class scratch_dir {
 public:
  scratch_dir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern =
        std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/tegata-sqlite-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern);
    }
    path_ = pattern;
  }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
  ~scratch_dir() {
    std::error_code ignored;
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::add, ignored);
    std::filesystem::remove_all(path_, ignored);
  }

  const std::filesystem::path& path() const noexcept { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline tegata::sqlite::Options options(const std::string& path) {
  tegata::sqlite::Options o;
  o.path = path;
  o.synchronous = tegata::sqlite::Synchronous::normal;  // the tests need no power-loss safety
  return o;
}

}  // namespace sqlite_test
