// The store contract (tests/support/store_contract.hpp) against the SQLite store: the same
// behavioural tests the memory and Redis stores pass, each on a fresh file of its own: with the
// defaults (synchronous FULL, the status cache on, which must be exact within one process), and
// with synchronous NORMAL and no cache.
#include <memory>
#include <tuple>

#include "sqlite/sqlite_support.hpp"

namespace store_contract {

// Each store made here keeps its directory until the test binary ends (a store may be copied
// around the test case, so the directory must outlive every copy).
template <tegata::sqlite::Synchronous Mode, bool Cached>
struct Sqlite {
  static tegata::sqlite::RevocationStore make() {
    static std::vector<std::unique_ptr<sqlite_test::scratch_dir>> dirs;
    dirs.push_back(std::make_unique<sqlite_test::scratch_dir>());
    auto options = sqlite_test::options(dirs.back()->file("sessions.db"));
    options.synchronous = Mode;
    options.cache.enabled = Cached;
    return tegata::sqlite::RevocationStore(options);
  }
};

// The defaults (FULL, status cache on), and NORMAL with every status() read from the file.
using Stores = std::tuple<Sqlite<tegata::sqlite::Synchronous::full, true>,
                          Sqlite<tegata::sqlite::Synchronous::normal, false>>;

}  // namespace store_contract

#include "support/store_contract.hpp"
