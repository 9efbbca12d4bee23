// docs/redis.md's set-up (<!-- snippet: redis_store -->), compiled as printed (it names a host
// this machine does not have, so it is built, not run). What it leaves to the reader is here.
#include <string>
#include <string_view>
#include <tegata/store/redis.hpp>
#include <tegata/tegata.hpp>

std::string read_secret(std::string_view name);

void start_server(const tegata::KeyRing& key_ring, const tegata::SessionOptions& session_options) {
#include "redis_store.cpp"
  (void)manager;
}
