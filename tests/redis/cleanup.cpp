// Deletes every key this test process wrote to the test Redis (all under run_prefix()) when the
// run ends, so repeated local runs against one Redis leave nothing behind.
#include <catch2/reporters/catch_reporter_event_listener.hpp>
#include <catch2/reporters/catch_reporter_registrars.hpp>

#include "redis/redis_support.hpp"

namespace {

class delete_test_keys : public Catch::EventListenerBase {
 public:
  using Catch::EventListenerBase::EventListenerBase;

  void testRunEnded(const Catch::TestRunStats&) override {
    const auto where = redis_test::configured();
    if (!where) return;
    tegata::redis::Options o = redis_test::options(*where, "unused:");
    const auto connection = tegata::redis::detail::endpoint(o).connect();
    if (!connection) return;
    const std::string pattern = redis_test::run_prefix() + "*";
    std::string cursor = "0";
    do {
      const auto page = tegata::redis::detail::run(
          connection.get(), {"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"});
      if (!page || page->type != REDIS_REPLY_ARRAY || page->elements != 2) return;
      cursor = std::string(tegata::redis::detail::text(page->element[0]));
      for (std::size_t i = 0; i < page->element[1]->elements; ++i) {
        tegata::redis::detail::run(
            connection.get(), {"DEL", tegata::redis::detail::text(page->element[1]->element[i])});
      }
    } while (cursor != "0");
  }
};

}  // namespace

CATCH_REGISTER_LISTENER(delete_test_keys)
