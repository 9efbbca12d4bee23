// tools/tegata/commands.hpp - the subcommands of the tegata tool. Each takes the arguments after
// its name, returns an exit status (cli::kOk, kRejected, kUsage) and reports errors by throwing
// cli::Failure.
#pragma once

#include <span>

namespace tegata::cli {

int run_sign(std::span<char* const> args);
int run_verify(std::span<char* const> args);
int run_inspect(std::span<char* const> args);
int run_jwks(std::span<char* const> args);
int run_keygen(std::span<char* const> args);
int run_dpop(std::span<char* const> args);

}  // namespace tegata::cli
