// tools/tegata/cli.hpp - what every subcommand of the tegata tool shares: exit statuses, the
// argument parser, errors, file and stdin helpers.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "tegata/algorithm.hpp"

namespace tegata::cli {

// Exit statuses, the same for every subcommand.
inline constexpr int kOk = 0;        // everything asked for succeeded
inline constexpr int kRejected = 1;  // the command ran, but a token (or the signing) failed
inline constexpr int kUsage = 2;     // bad arguments, or a key/claims file that cannot be used

// The one way a subcommand reports failure: main() prints "tegata <command>: <what>" on stderr and
// exits with status. Messages name files and options, never key material or token contents.
class Failure : public std::runtime_error {
 public:
  Failure(int status, const std::string& what) : std::runtime_error(what), status_(status) {}
  int status() const noexcept { return status_; }

 private:
  int status_;
};

[[noreturn]] inline void usage_error(const std::string& what) { throw Failure(kUsage, what); }

// Arguments are "--name value", "--name=value" or, for switches, "--name". Whatever does not
// start with "--" is positional. "--help" or "-h" anywhere asks for help.
struct Flag {
  std::string_view name{};  // without the leading "--"
  bool takes_value = true;
  bool repeatable = false;
};

class Args {
 public:
  // Throws Failure(kUsage) for an unknown option, a missing value or a repeated option.
  Args(std::span<char* const> argv, std::initializer_list<Flag> flags,
       bool allow_positional = false);

  bool help() const noexcept { return help_; }
  bool has(std::string_view name) const { return values_.count(std::string(name)) != 0; }
  std::optional<std::string> get(std::string_view name) const;
  std::string required(std::string_view name) const;  // throws Failure(kUsage) when absent
  std::vector<std::string> all(std::string_view name) const;
  const std::vector<std::string>& positional() const noexcept { return positional_; }

 private:
  bool help_ = false;
  std::map<std::string, std::vector<std::string>> values_;
  std::vector<std::string> positional_;
};

// "HS256", ... exactly as in a JWS header; throws Failure(kUsage) for anything else.
Algorithm parse_algorithm(std::string_view name);

// A non-negative decimal integer no larger than max; throws Failure(kUsage) naming the option.
std::int64_t parse_integer(std::string_view option, std::string_view text, std::int64_t max);

// A JSON object given on the command line, parsed strictly (duplicate members are an error).
nlohmann::json parse_json_argument(std::string_view option, std::string_view text);

// The contents of a (small) file that may hold a secret, read without intermediate copies and
// wiped when this object is destroyed. Throws Failure(kUsage) naming the file when it cannot be
// read.
class SecretFile {
 public:
  explicit SecretFile(const std::string& path);
  SecretFile(const SecretFile&) = delete;
  SecretFile& operator=(const SecretFile&) = delete;
  ~SecretFile();

  std::string_view view() const noexcept { return bytes_; }

 private:
  void wipe() noexcept;
  std::string bytes_;
};

// Creates path with mode 0600 and writes bytes to it. Refuses to replace an existing file (or to
// follow a symlink), and removes the partial file if writing fails. Throws Failure(kUsage).
void write_private_file(const std::string& path, std::string_view bytes);

// One token per input line, with surrounding ASCII whitespace (and a CR) removed. A blank line is
// still a line, so output lines stay aligned with input lines.
bool next_token(std::istream& in, std::string& line);

// The stable name of an error, e.g. "bad_signature" (tegata::to_string(std::error_code)).
std::string error_name(std::error_code ec);

// Unix seconds as "2023-11-14T22:13:20Z".
std::string format_utc(std::chrono::sys_seconds t);

}  // namespace tegata::cli
