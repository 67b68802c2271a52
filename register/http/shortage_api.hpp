#pragma once
/// GET /api/shortages with the board's additions (transfer proposals per
/// surplus plant, the operators' acknowledgements and snoozes), the writes
/// POST /api/shortages/<site>/<material>/ack and .../snooze, and
/// GET /api/whoami. Writes need "Authorization: Bearer <token>" from
/// http.tokens_file; without that file the API is read-only.
#include <memory>
#include <string>
#include <vector>

#include "common/core/clock.hpp"
#include "common/http/http_server.hpp"
#include "register/config/register_config.hpp"
#include "register/http/api_support.hpp"

namespace plant::central::api {

class operator_tokens;

class shortage_api {
 public:
  shortage_api(api_connection& connection, std::vector<transfer_route> transfers,
               std::function<epoch_ms()> now = wall_clock_ms);
  ~shortage_api();

  /// "/api/shortages/<site>/<material>/ack" or ".../snooze".
  static bool is_action_path(const std::string& path);

  http::answer list();
  http::answer act(const http::request& request, const std::string& path);
  http::answer whoami(const http::request& request) const;

  void set_tokens(std::shared_ptr<const operator_tokens> tokens) { tokens_ = std::move(tokens); }
  void set_transfers(std::vector<transfer_route> transfers) { transfers_ = std::move(transfers); }

 private:
  api_connection& connection_;
  std::vector<transfer_route> transfers_;
  std::function<epoch_ms()> now_;
  std::shared_ptr<const operator_tokens> tokens_;
};

}  // namespace plant::central::api
