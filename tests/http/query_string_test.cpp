#include "common/http/query_string.hpp"

#include <gtest/gtest.h>

namespace plant::http {
namespace {

TEST(query_string, decodes_path_and_parameters) {
  const auto t = parse_target("/api/stock?site=plant%20a&from=2026-10-01T12:00:00%2B02:00&material=a+b",
                              {"site", "from", "material"});
  EXPECT_EQ(t.error, "");
  EXPECT_EQ(t.path, "/api/stock");
  EXPECT_EQ(t.params.at("site"), "plant a");
  EXPECT_EQ(t.params.at("from"), "2026-10-01T12:00:00+02:00");
  EXPECT_EQ(t.params.at("material"), "a b");
}

TEST(query_string, refuses_unknown_repeated_and_badly_encoded_parameters_by_name) {
  EXPECT_NE(parse_target("/x?sight=1", {"site"}).error.find("unknown parameter 'sight' (known: site)"),
            std::string::npos);
  EXPECT_NE(parse_target("/x?site=1&site=2", {"site"}).error.find("'site' is given twice"), std::string::npos);
  EXPECT_NE(parse_target("/x?site=%zz", {"site"}).error.find("'site'"), std::string::npos);
  EXPECT_NE(parse_target("/x?site=%4", {"site"}).error.find("bad percent-encoding"), std::string::npos);
  EXPECT_NE(parse_target("/x?site=%00", {"site"}).error.find("bad percent-encoding"), std::string::npos);
  EXPECT_NE(parse_target("/x?a=1", {}).error.find("takes no parameters"), std::string::npos);
  EXPECT_EQ(target_path("/healthz?x=1"), "/healthz");
}

}  // namespace
}  // namespace plant::http
