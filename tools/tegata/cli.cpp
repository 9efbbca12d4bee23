// tools/tegata/cli.cpp - shared helpers of the tegata tool.
#include "cli.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>
#include <istream>

#include "tegata/error.hpp"
#include "tegata/json.hpp"

namespace tegata::cli {

namespace {

constexpr std::size_t kMaxFileBytes = 1 << 20;  // far above any key or key set
constexpr std::size_t kMaxArgumentDepth = 64;

std::string in_quotes(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string system_message(int error) { return std::generic_category().message(error); }

}  // namespace

// --- Args ----------------------------------------------------------------------------------------

Args::Args(std::span<char* const> argv, std::initializer_list<Flag> flags, bool allow_positional) {
  auto find = [&](std::string_view name) -> const Flag* {
    for (const Flag& f : flags) {
      if (f.name == name) return &f;
    }
    return nullptr;
  };
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      help_ = true;
      continue;
    }
    if (!arg.starts_with("--")) {
      if (!allow_positional) usage_error("unexpected argument " + in_quotes(arg));
      positional_.emplace_back(arg);
      continue;
    }
    std::string_view name = arg.substr(2);
    std::optional<std::string_view> value;
    if (const auto eq = name.find('='); eq != std::string_view::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    const Flag* flag = find(name);
    if (flag == nullptr) usage_error("unknown option " + in_quotes("--" + std::string(name)));
    if (!flag->takes_value && value) {
      usage_error("option --" + std::string(name) + " takes no value");
    }
    if (flag->takes_value && !value) {
      if (i + 1 == argv.size()) usage_error("option --" + std::string(name) + " needs a value");
      value = argv[++i];
    }
    auto& slot = values_[std::string(name)];
    if (!slot.empty() && !flag->repeatable) {
      usage_error("option --" + std::string(name) + " is given more than once");
    }
    slot.emplace_back(value.value_or(""));
  }
}

std::optional<std::string> Args::get(std::string_view name) const {
  const auto it = values_.find(std::string(name));
  if (it == values_.end()) return std::nullopt;
  return it->second.front();
}

std::string Args::required(std::string_view name) const {
  auto value = get(name);
  if (!value) usage_error("option --" + std::string(name) + " is required");
  return *value;
}

std::vector<std::string> Args::all(std::string_view name) const {
  const auto it = values_.find(std::string(name));
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

// --- Values --------------------------------------------------------------------------------------

Algorithm parse_algorithm(std::string_view name) {
  if (auto alg = algorithm_from_string(name)) return *alg;
  usage_error("unknown algorithm " + in_quotes(name) +
              " (expected HS256/384/512, RS256/384/512, PS256/384/512, ES256/384/512, ES256K, "
              "EdDSA, Ed25519 or Ed448)");
}

std::int64_t parse_integer(std::string_view option, std::string_view text, std::int64_t max) {
  std::int64_t value = -1;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value < 0 ||
      value > max) {
    usage_error("option --" + std::string(option) + " needs an integer from 0 to " +
                std::to_string(max));
  }
  return value;
}

nlohmann::json parse_json_argument(std::string_view option, std::string_view text) {
  auto object = parse_json_object(text, kMaxArgumentDepth);
  if (!object) {
    usage_error("option --" + std::string(option) + " is not a valid JSON object (" +
                error_name(object.error()) + ")");
  }
  return std::move(*object);
}

// --- Files ---------------------------------------------------------------------------------------

SecretFile::SecretFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) usage_error("cannot read " + in_quotes(path) + ": " + system_message(errno));
  // Reserved once: the buffer never moves, so no stray copy of a secret is left in freed memory.
  bytes_.reserve(kMaxFileBytes + 1);
  bytes_.resize(kMaxFileBytes + 1);
  std::size_t size = 0;
  int error = 0;
  while (size < bytes_.size()) {
    const ssize_t n = ::read(fd, bytes_.data() + size, bytes_.size() - size);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      error = errno;
      break;
    }
    size += static_cast<std::size_t>(n);
  }
  ::close(fd);
  bytes_.resize(size);
  if (error != 0 || size > kMaxFileBytes) {
    wipe();  // the destructor does not run when the constructor throws
    if (error != 0) usage_error("cannot read " + in_quotes(path) + ": " + system_message(error));
    usage_error(in_quotes(path) + " is larger than 1 MiB: not a key file");
  }
}

SecretFile::~SecretFile() { wipe(); }

void SecretFile::wipe() noexcept {
  if (!bytes_.empty()) OPENSSL_cleanse(bytes_.data(), bytes_.size());
}

void write_private_file(const std::string& path, std::string_view bytes) {
  // O_EXCL: never replace an existing key; O_NOFOLLOW: never write through a planted symlink.
  // Mode 0600 is set at creation, so the file is never readable by others, even briefly.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    const int error = errno;
    if (error == EEXIST) usage_error(in_quotes(path) + " already exists; refusing to overwrite it");
    usage_error("cannot create " + in_quotes(path) + ": " + system_message(error));
  }
  int error = 0;
  // A umask can only remove bits; fchmod makes the mode exactly 0600 (owner read and write).
  if (::fchmod(fd, S_IRUSR | S_IWUSR) != 0) error = errno;
  std::size_t done = 0;
  while (error == 0 && done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno != EINTR) error = errno;
      continue;
    }
    done += static_cast<std::size_t>(n);
  }
  if (error == 0 && ::fsync(fd) != 0) error = errno;
  if (::close(fd) != 0 && error == 0) error = errno;
  if (error != 0) {
    ::unlink(path.c_str());
    usage_error("cannot write " + in_quotes(path) + ": " + system_message(error));
  }
}

// --- Tokens and output ---------------------------------------------------------------------------

bool next_token(std::istream& in, std::string& line) {
  if (!std::getline(in, line)) return false;
  constexpr std::string_view space = " \t\r\n\v\f";
  const auto first = line.find_first_not_of(space);
  if (first == std::string::npos) {
    line.clear();
    return true;
  }
  line.erase(line.find_last_not_of(space) + 1);
  line.erase(0, first);
  return true;
}

std::string error_name(std::error_code ec) { return std::string(tegata::to_string(ec)); }

std::string format_utc(std::chrono::sys_seconds t) {
  const std::time_t seconds = static_cast<std::time_t>(t.time_since_epoch().count());
  std::tm utc{};
  char text[32] = "";
  if (::gmtime_r(&seconds, &utc) == nullptr ||
      std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc) == 0) {
    return "?";
  }
  return text;
}

}  // namespace tegata::cli
