// The store contract (tests/support/store_contract.hpp) against Redis: the same behavioural tests
// the memory store passes, once with every status() a round trip, once with the local cache
// answering status(), and once through Sentinels with acknowledged writes (a primary and a
// replica of the test's own).
#include <chrono>
#include <tuple>

#include "redis/redis_support.hpp"
#include "tegata/store/redis.hpp"

namespace store_contract {

struct Redis {
  static tegata::redis::RevocationStore make() {
    return tegata::redis::RevocationStore(
        redis_test::options(redis_test::require_redis(), redis_test::unique_prefix()));
  }
};

// Writes reach this process's cache before they return, so the single-process contract holds with
// the cache answering; a long staleness bound keeps it answering on a busy machine.
struct CachedRedis {
  static tegata::redis::RevocationStore make() {
    auto options = redis_test::options(redis_test::require_redis(), redis_test::unique_prefix());
    options.local_cache.enabled = true;
    options.local_cache.max_staleness = std::chrono::seconds{30};
    tegata::redis::RevocationStore store(options);
    redis_test::wait_until_fresh(store);
    return store;
  }
};

// Started on first use, stopped when the test program ends.
struct SentinelRedis {
  static tegata::redis::RevocationStore make() {
    redis_test::require_redis();
    static redis_test::replicated redis(1);
    auto options = redis.options(redis_test::unique_prefix());
    options.acknowledged_replicas = 1;
    return tegata::redis::RevocationStore(options);
  }
};

using Stores = std::tuple<Redis, CachedRedis, SentinelRedis>;

}  // namespace store_contract

#include "support/store_contract.hpp"
