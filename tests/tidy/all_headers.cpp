// tests/tidy/all_headers.cpp - the translation unit clang-tidy checks the public headers through.
//
// Headers are not compiled on their own, so clang-tidy sees them through a source file. This one
// includes everything (tegata/tegata.hpp) and instantiates the class templates with tegata's own
// policies, so that the checks also see the template code as it is used. It is only analysed
// (and compiled by the same command), never linked or run.
#include "tegata/tegata.hpp"

template class tegata::SessionManager<tegata::HmacKey, tegata::ManualClock,
                                      tegata::MemoryRevocationStore>;
template class tegata::SessionManager<tegata::KeyRing, tegata::SystemClock,
                                      tegata::NullRevocationStore>;
template class tegata::Result<tegata::TokenPair>;
template class tegata::Result<tegata::AccessClaims>;
