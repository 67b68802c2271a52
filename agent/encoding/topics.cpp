#include "agent/encoding/topics.hpp"

namespace plant::encoding {

topic_set make_topics(const std::string& prefix, const std::string& site, const std::string& agent) {
  std::string base = prefix + "/" + site + "/" + agent + "/";
  return topic_set{base + "telemetry", base + "alerts", base + "status"};
}

const std::string& topic_for(const topic_set& topics, stream s) {
  return s == stream::alert ? topics.alerts : topics.telemetry;
}

}  // namespace plant::encoding
