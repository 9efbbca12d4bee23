// Built by packaging.pkg_config with nothing but `pkg-config --cflags --libs tegata-redis`, and
// by packaging.readme_install with docs/redis.md's CMake block (target tegata::redis): a
// Redis store that reaches for a Unix socket that does not exist (argv[1] is a scratch
// directory), so that hiredis is really called and linked, and must answer store_unavailable.
// Prints the version the headers declare, which the test compares with the project's.
#include <cstdio>
#include <string>
#include <tegata/store/redis.hpp>
#include <tegata/tegata.hpp>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  tegata::redis::Options options;
  options.unix_socket = std::string(argv[1]) + "/no-redis-here.sock";
  const tegata::redis::RevocationStore store(options);
  auto ping = store.ping();
  if (ping || ping.error() != tegata::errc::store_unavailable) {
    std::printf("ping: %s\n", ping ? "answered" : ping.error().message().c_str());
    return 1;
  }
  std::printf("tegata-redis %d.%d.%d ok\n", TEGATA_VERSION_MAJOR, TEGATA_VERSION_MINOR,
              TEGATA_VERSION_PATCH);
  return 0;
}
