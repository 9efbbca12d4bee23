// Built by packaging.pkg_config with nothing but `pkg-config --cflags --libs tegata-sqlite`: a
// SQLite store on a file in argv[1] (a scratch directory), so that SQLite is really called and
// linked, which must keep a revocation across a reopen. Prints the version the headers declare,
// which the test compares with the project's.
#include <chrono>
#include <cstdio>
#include <string>
#include <tegata/store/sqlite.hpp>
#include <tegata/tegata.hpp>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  tegata::sqlite::Options options;
  options.path = std::string(argv[1]) + "/pkg-config-sqlite.db";
  const std::chrono::sys_seconds now{std::chrono::seconds{1'700'000'000}};
  {
    tegata::sqlite::RevocationStore store(options);
    if (!store.revoke_token("jti", now + std::chrono::seconds{60}, now)) return 1;
  }
  const tegata::sqlite::RevocationStore store(options);
  const auto status = store.status("jti", "sid", "subject", now);
  if (!status || !status->token_revoked) {
    std::printf("the revocation did not survive the reopen\n");
    return 1;
  }
  std::printf("tegata-sqlite %d.%d.%d ok\n", TEGATA_VERSION_MAJOR, TEGATA_VERSION_MINOR,
              TEGATA_VERSION_PATCH);
  return 0;
}
