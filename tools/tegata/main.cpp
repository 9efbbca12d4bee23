// tools/tegata/main.cpp - the tegata command-line tool: sign, verify and inspect JWTs, publish
// JWKS and generate keys with the tegata library. Usage: tegata --help.
#include <exception>
#include <iostream>
#include <span>
#include <stdexcept>
#include <string_view>

#include "cli.hpp"
#include "commands.hpp"
#include "tegata/version.hpp"

namespace {

struct Command {
  std::string_view name;
  int (*run)(std::span<char* const>);
  std::string_view summary;
};

constexpr Command kCommands[] = {
    {"sign", tegata::cli::run_sign, "sign JSON claims into a compact JWS"},
    {"verify", tegata::cli::run_verify, "verify tokens read from stdin, one per line"},
    {"inspect", tegata::cli::run_inspect, "show header and claims of tokens WITHOUT verifying"},
    {"jwks", tegata::cli::run_jwks, "print the public JWK Set of key files"},
    {"keygen", tegata::cli::run_keygen, "write a new private key to a file (mode 0600)"},
    {"dpop", tegata::cli::run_dpop, "check DPoP proofs read from stdin for one request"},
};

void print_usage(std::ostream& out) {
  out << "usage: tegata <command> [options]\n"
         "\n"
         "JWT signing, verification and key tools built on the tegata library.\n"
         "\n"
         "commands:\n";
  for (const Command& c : kCommands) {
    out << "  " << c.name << std::string(10 - c.name.size(), ' ') << c.summary << '\n';
  }
  out << "\n"
         "Run 'tegata <command> --help' for the options of a command.\n"
         "\n"
         "exit status: 0 success; 1 a token was rejected (or signing failed);\n"
         "             2 usage error: bad option, unreadable or unsuitable key, invalid claims.\n";
}

// Library messages start with "tegata: "; the tool already names itself and the command.
std::string_view strip_prefix(std::string_view message) {
  constexpr std::string_view prefix = "tegata: ";
  if (message.starts_with(prefix)) message.remove_prefix(prefix.size());
  return message;
}

}  // namespace

int main(int argc, char** argv) {
  const std::span<char* const> args(argv, static_cast<std::size_t>(argc));
  if (args.size() < 2) {
    std::cerr << "tegata: no command given (run 'tegata --help')\n";
    return tegata::cli::kUsage;
  }
  const std::string_view name = args[1];
  if (name == "--help" || name == "-h" || name == "help") {
    print_usage(std::cout);
    return tegata::cli::kOk;
  }
  if (name == "--version") {
    std::cout << "tegata " << TEGATA_VERSION_MAJOR << '.' << TEGATA_VERSION_MINOR << '.'
              << TEGATA_VERSION_PATCH << '\n';
    return tegata::cli::kOk;
  }
  for (const Command& command : kCommands) {
    if (command.name != name) continue;
    try {
      return command.run(args.subspan(2));
    } catch (const tegata::cli::Failure& e) {
      std::cerr << "tegata " << name << ": " << e.what() << '\n';
      return e.status();
    } catch (const std::invalid_argument& e) {
      // The library refuses a misconfiguration (short secret, weak key, leeway too large...).
      std::cerr << "tegata " << name << ": " << strip_prefix(e.what()) << '\n';
      return tegata::cli::kUsage;
    } catch (const std::exception& e) {
      std::cerr << "tegata " << name << ": internal error: " << strip_prefix(e.what()) << '\n';
      return tegata::cli::kRejected;
    }
  }
  std::cerr << "tegata: unknown command '" << name << "' (run 'tegata --help')\n";
  return tegata::cli::kUsage;
}
