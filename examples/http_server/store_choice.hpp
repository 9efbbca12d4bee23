// examples/http_server/store_choice.hpp - where the server keeps its sessions, chosen at startup
// with --store:
//   memory            MemoryRevocationStore: forgotten when the process ends (the default)
//   sqlite:PATH       tegata::sqlite::RevocationStore on that file: sessions and logouts survive
//                     restarts and crashes, and servers on one host may share the file
//   redis:HOST:PORT   tegata::redis::RevocationStore: servers on several hosts share it
//
// A SessionManager takes its store as a template argument, fixed at compile time. A server that
// chooses at run time wraps the stores it was built with in one type, as here, and forwards each
// call of the RevocationStore concept (store/revocation_store.hpp) to the one chosen. The SQLite
// and Redis stores exist only in builds that found SQLite 3 and hiredis (the CMake targets
// tegata::sqlite and tegata::redis, which define TEGATA_EXAMPLE_SQLITE and TEGATA_EXAMPLE_REDIS).
#pragma once

#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <tegata/tegata.hpp>
#include <type_traits>
#include <variant>
#include <vector>

#ifdef TEGATA_EXAMPLE_SQLITE
#include <tegata/store/sqlite.hpp>
#endif
#ifdef TEGATA_EXAMPLE_REDIS
#include <tegata/store/redis.hpp>
#endif

namespace demo {

class ChosenStore {
 public:
  // "memory", "sqlite:PATH" or "redis:HOST:PORT"; std::invalid_argument for anything else, or
  // for a store this build does not have. The stores throw for a file or address they refuse.
  explicit ChosenStore(std::string_view spec) : store_(open(spec)) {}

  using sys_seconds = std::chrono::sys_seconds;

  tegata::Result<tegata::TokenStatus> status(std::string_view jti, std::string_view sid,
                                             std::string_view subject, sys_seconds now) const {
    return std::visit([&](const auto& s) { return s.status(jti, sid, subject, now); }, store_);
  }
  tegata::Result<tegata::SessionLookup> find_session(std::string_view jti, std::string_view sid,
                                                     std::string_view subject,
                                                     sys_seconds now) const {
    return std::visit([&](const auto& s) { return s.find_session(jti, sid, subject, now); },
                      store_);
  }
  tegata::Result<std::vector<std::string>> create_session(std::string_view subject,
                                                          const tegata::SessionRecord& record,
                                                          std::size_t max_sessions,
                                                          sys_seconds now) {
    return std::visit(
        [&](auto& s) { return s.create_session(subject, record, max_sessions, now); }, store_);
  }
  tegata::Result<tegata::Rotation> rotate_session(std::string_view subject, std::string_view sid,
                                                  const tegata::RotationRequest& request) {
    return std::visit([&](auto& s) { return s.rotate_session(subject, sid, request); }, store_);
  }
  tegata::Result<bool> end_session(std::string_view subject, std::string_view sid,
                                   sys_seconds until, sys_seconds now) {
    return std::visit([&](auto& s) { return s.end_session(subject, sid, until, now); }, store_);
  }
  tegata::Result<std::vector<tegata::SessionRecord>> sessions(std::string_view subject,
                                                              sys_seconds now) const {
    return std::visit([&](const auto& s) { return s.sessions(subject, now); }, store_);
  }
  tegata::Result<void> revoke_token(std::string_view jti, sys_seconds until, sys_seconds now) {
    return std::visit([&](auto& s) { return s.revoke_token(jti, until, now); }, store_);
  }
  tegata::Result<std::uint64_t> bump_version(std::string_view subject, sys_seconds until,
                                             sys_seconds now) {
    return std::visit([&](auto& s) { return s.bump_version(subject, until, now); }, store_);
  }

  // The DPoP proof replay cache (tegata::ProofReplayCache), which DPoP-bound sessions need.
  // Forwarded to the chosen store when it has one; a store without it answers not_supported, so
  // that the manager refuses DPoP (token mode) instead of accepting proofs it cannot use up.
  tegata::Result<bool> use_proof(std::string_view key, sys_seconds until, sys_seconds now) const {
    return std::visit(
        [&](const auto& s) -> tegata::Result<bool> {
          if constexpr (tegata::ProofReplayCache<std::decay_t<decltype(s)>>) {
            return s.use_proof(key, until, now);
          } else {
            return tegata::errc::not_supported;
          }
        },
        store_);
  }

  // Whether the chosen store can remember used proofs (else use_proof is not_supported).
  bool remembers_proofs() const {
    return std::visit(
        [](const auto& s) { return tegata::ProofReplayCache<std::decay_t<decltype(s)>>; }, store_);
  }

 private:
  using any_store = std::variant<tegata::MemoryRevocationStore
#ifdef TEGATA_EXAMPLE_SQLITE
                                 ,
                                 tegata::sqlite::RevocationStore
#endif
#ifdef TEGATA_EXAMPLE_REDIS
                                 ,
                                 tegata::redis::RevocationStore
#endif
                                 >;

  static any_store open(std::string_view spec) {
    if (spec == "memory") return tegata::MemoryRevocationStore{};
    if (spec.starts_with("sqlite:")) {
#ifdef TEGATA_EXAMPLE_SQLITE
      tegata::sqlite::Options options;
      options.path = std::string(spec.substr(7));
      if (options.path.empty()) throw std::invalid_argument("--store sqlite:PATH needs a path");
      return tegata::sqlite::RevocationStore(options);
#else
      throw std::invalid_argument("--store sqlite: this build has no SQLite (tegata::sqlite)");
#endif
    }
    if (spec.starts_with("redis:")) {
#ifdef TEGATA_EXAMPLE_REDIS
      const std::string_view where = spec.substr(6);
      const auto colon = where.rfind(':');
      if (colon == std::string_view::npos || colon == 0) {
        throw std::invalid_argument("--store redis:HOST:PORT needs a host and a port");
      }
      tegata::redis::Options options;
      options.host = std::string(where.substr(0, colon));
      const std::string_view port = where.substr(colon + 1);
      const auto parsed = std::from_chars(port.data(), port.data() + port.size(), options.port);
      if (parsed.ec != std::errc{} || parsed.ptr != port.data() + port.size()) {
        throw std::invalid_argument("--store redis:HOST:PORT needs a numeric port");
      }
      tegata::redis::RevocationStore store(options);
      // A wrong address, password or eviction policy is better found now than at the first login.
      if (!store.ping()) throw std::runtime_error("--store " + std::string(spec) + ": no answer");
      return store;
#else
      throw std::invalid_argument("--store redis: this build has no hiredis (tegata::redis)");
#endif
    }
    throw std::invalid_argument("--store wants memory, sqlite:PATH or redis:HOST:PORT");
  }

  any_store store_;
};

static_assert(tegata::RevocationStore<ChosenStore>);
static_assert(tegata::ProofReplayCache<ChosenStore>);

}  // namespace demo
