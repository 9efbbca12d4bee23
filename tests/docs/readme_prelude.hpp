// Force-included before README.md's server snippet (tests/docs): what the snippet leaves to the
// reader, declared so that the rest compiles exactly as printed.
#pragma once

#include <httplib.h>

#include <optional>
#include <string>

// The application's password check: the user's name when the request's credentials are right.
std::optional<std::string> check_password(const httplib::Request& request);
