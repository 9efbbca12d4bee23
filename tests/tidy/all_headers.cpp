// tests/tidy/all_headers.cpp - the translation unit clang-tidy checks the public headers through.
//
// Headers are not compiled on their own, so clang-tidy sees them through a source file. This one
// includes everything (tegata/tegata.hpp, and tegata/store/redis.hpp and tegata/store/sqlite.hpp,
// which tegata.hpp leaves out because they need hiredis and SQLite) and instantiates the class templates with tegata's own policies, so
// that the checks also see the template code as it is used. It is only analysed (and compiled by
// the same command), never linked or run. The command, as .ci/run runs it from the repository root:
//
//   clang-tidy-14 --quiet tests/tidy/all_headers.cpp -- \
//     -std=c++20 -Iinclude -DOPENSSL_API_COMPAT=30000 -DOPENSSL_NO_DEPRECATED
//
// OpenSSL, nlohmann_json, hiredis and SQLite come from the system include path (libssl-dev,
// nlohmann-json3-dev, libhiredis-dev, libsqlite3-dev); .clang-tidy reports findings in tegata's headers only.
#include "tegata/store/redis.hpp"
#include "tegata/store/sqlite.hpp"
#include "tegata/tegata.hpp"

template class tegata::SessionManager<tegata::HmacKey, tegata::ManualClock,
                                      tegata::MemoryRevocationStore>;
template class tegata::SessionManager<tegata::KeyRing, tegata::SystemClock,
                                      tegata::NullRevocationStore>;
template class tegata::SessionManager<tegata::HmacKey, tegata::SystemClock,
                                      tegata::redis::RevocationStore>;
template class tegata::SessionManager<tegata::HmacKey, tegata::SystemClock,
                                      tegata::sqlite::RevocationStore>;
template class tegata::Result<tegata::TokenPair>;
template class tegata::Result<tegata::AccessClaims>;
