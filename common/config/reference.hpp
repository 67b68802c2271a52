#pragma once
/// The commented reference config of a schema: every section and key with its
/// default, constraints and help, and the repeatable sections commented out with
/// an example for every key. Generated, so the docs cannot drift from the rules.
#include <string>
#include <string_view>

#include "common/config/schema.hpp"

namespace plant::config {

/// The reference text: `intro`, the plain sections, then `examples_banner` and the repeatable ones.
std::string render_reference(const section_spec& root, std::string_view intro, std::string_view examples_banner);

}  // namespace plant::config
