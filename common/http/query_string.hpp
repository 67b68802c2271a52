#pragma once
/// A request target's path and its query parameters, percent-decoded, with
/// the checks an API answers 400 for: an unknown parameter, one given twice,
/// bad percent-encoding.
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace plant::http {

struct parsed_target {
  std::string path;                           ///< decoded path, "/api/stock"
  std::map<std::string, std::string> params;  ///< decoded name -> value
  std::string error;                          ///< "" or why the target is refused (name the parameter)
};

/// Splits and decodes `target`; only parameters in `known` are accepted (an empty list accepts none).
parsed_target parse_target(std::string_view target, const std::vector<std::string>& known);

/// Just the decoded path of `target` ("" when it is not decodable).
std::string target_path(std::string_view target);

}  // namespace plant::http
