// docs/sqlite.md's set-up (<!-- snippet: sqlite_store -->) and README.md's (<!-- snippet: durable
// -->), each compiled as printed (TEGATA_SNIPPET names the extracted block) and run: their path,
// /var/lib/myapp/sessions.db, is in a directory this machine does not have, so the store must
// refuse it at construction with a message that names the file and the reason (docs.sqlite_store
// and docs.readme_durable check the output). What the blocks leave to the reader is here.
#include <cstdio>
#include <exception>
#include <string>
#include <tegata/store/sqlite.hpp>
#include <tegata/tegata.hpp>

namespace {

void start_server(const tegata::KeyRing& key_ring, const tegata::SessionOptions& session_options) {
#include TEGATA_SNIPPET
  (void)manager;
}

}  // namespace

int main() {
  tegata::SessionOptions session_options;
  session_options.issuer = "https://auth.example";
  session_options.audience = "api";
  const tegata::KeyRing key_ring(
      tegata::AnyKey(tegata::HmacKey(tegata::Algorithm::HS256, std::string(32, 'k'), "k1")));
  try {
    start_server(key_ring, session_options);
  } catch (const std::runtime_error& e) {
    std::printf("refused: %s\n", e.what());
    return 0;
  }
  std::printf("the store accepted /var/lib/myapp/sessions.db\n");
  return 1;
}
