// tools/tegata/inspect.cpp - tegata inspect: decode tokens for a human, without verifying them.
#include <iostream>
#include <string>

#include "cli.hpp"
#include "commands.hpp"
#include "tegata/base64url.hpp"
#include "tegata/claims.hpp"
#include "tegata/json.hpp"

namespace tegata::cli {

namespace {

constexpr const char* kHelp = R"(usage: tegata inspect < tokens

Reads one compact JWS per line from stdin and prints its header and claims.
NOTHING IS VERIFIED: anyone can write any header and claims. Use tegata verify to trust a token.

exit status: 0 every token could be decoded; 1 some token could not; 2 usage error.
)";

constexpr std::size_t kMaxDepth = 64;

// Compact JSON, every non-ASCII or control character escaped: untrusted text reaches the terminal
// without any byte that could form an escape sequence.
std::string dump(const nlohmann::json& value) {
  return value.dump(-1, ' ', /*ensure_ascii=*/true, nlohmann::json::error_handler_t::replace);
}

// Prints one decoded segment; false when it is not strict base64url.
bool print_segment(std::ostream& out, std::string_view label, std::string_view encoded,
                   nlohmann::json* object) {
  auto bytes = base64url_decode(encoded);
  if (!bytes) {
    out << "  " << label << ": cannot decode (" << error_name(bytes.error()) << ")\n";
    return false;
  }
  auto parsed = parse_json_object(*bytes, kMaxDepth);
  if (parsed) {
    out << "  " << label << ": " << dump(*parsed) << '\n';
    if (object != nullptr) *object = std::move(*parsed);
  } else {
    // Not a JSON object (or a suspicious one): show the text, escaped, and say why.
    out << "  " << label << " (not a JSON object: " << error_name(parsed.error())
        << "): " << dump(nlohmann::json(*bytes)) << '\n';
  }
  return true;
}

// exp, nbf and iat as calendar dates, which is what a person debugging a token wants to see.
void print_times(std::ostream& out, const nlohmann::json& claims) {
  for (const char* name : {"iat", "nbf", "exp"}) {
    const auto it = claims.find(name);
    if (it == claims.end()) continue;
    auto date = parse_numeric_date(*it);
    out << "  " << name << ": " << (date ? format_utc(*date) : "invalid NumericDate") << '\n';
  }
}

bool inspect(std::ostream& out, std::string_view token) {
  const auto dot1 = token.find('.');
  const auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    out << "  not a compact JWS (expected three dot-separated segments)\n";
    return false;
  }
  nlohmann::json claims;
  bool ok = print_segment(out, "header", token.substr(0, dot1), nullptr);
  ok = print_segment(out, "claims", token.substr(dot1 + 1, dot2 - dot1 - 1), &claims) && ok;
  if (claims.is_object()) print_times(out, claims);
  auto signature = base64url_decode(token.substr(dot2 + 1));
  if (signature) {
    out << "  signature: " << signature->size() << " bytes (not checked)\n";
  } else {
    out << "  signature: cannot decode (" << error_name(signature.error()) << ")\n";
    ok = false;
  }
  return ok;
}

}  // namespace

int run_inspect(std::span<char* const> argv) {
  const Args args(argv, {});
  if (args.help()) {
    std::cout << kHelp;
    return kOk;
  }
  int status = kOk;
  std::string token;
  for (int n = 1; next_token(std::cin, token); ++n) {
    std::cout << "token " << n << " (UNVERIFIED: signature not checked, do not trust)\n";
    if (!inspect(std::cout, token)) status = kRejected;
  }
  return status;
}

}  // namespace tegata::cli
