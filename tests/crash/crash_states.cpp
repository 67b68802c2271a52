#include "tests/crash/crash_states.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>

namespace plant::crash {

namespace {

bool is_barrier(op_kind k) { return k == op_kind::datasync || k == op_kind::dirsync; }
bool is_directory_op(op_kind k) { return k == op_kind::create || k == op_kind::unlink; }
bool is_file_op(op_kind k) { return k == op_kind::write || k == op_kind::truncate; }

void apply_write(std::string& bytes, std::uint64_t offset, const std::string& data, std::uint64_t keep) {
  if (keep == 0) return;
  const std::uint64_t end = offset + keep;
  if (bytes.size() < end) bytes.resize(end, '\0');
  bytes.replace(offset, keep, data, 0, keep);
}

}  // namespace

// What is durable after `ops_done` operations, and what is still in flight.
struct crash_model::replayed {
  std::map<std::uint64_t, std::string> durable;  // inode -> bytes at its last datasync
  std::map<std::uint64_t, std::string> current;  // inode -> bytes now
  std::map<std::string, std::uint64_t> durable_names;
  std::vector<std::size_t> in_flight;  // trace indexes: file ops since their inode's datasync, directory ops since the dirsync
};

crash_model::crash_model(std::vector<file_op> trace, std::uint64_t sector_bytes)
    : trace_(std::move(trace)), sector_(sector_bytes) {}

std::vector<std::size_t> crash_model::crash_points() const {
  std::vector<std::size_t> points;
  for (std::size_t k = 0; k < trace_.size(); ++k) {
    if (is_barrier(trace_[k].kind)) points.push_back(k);
  }
  points.push_back(trace_.size());
  return points;
}

const crash_model::replayed& crash_model::replay(std::size_t ops_done) const {
  if (last_ && last_done_ == ops_done) return *last_;
  auto fresh = std::make_shared<replayed>();
  replayed& r = *fresh;
  for (std::size_t k = 0; k < ops_done && k < trace_.size(); ++k) {
    const file_op& op = trace_[k];
    switch (op.kind) {
      case op_kind::create:
        r.current[op.inode];
        r.in_flight.push_back(k);
        break;
      case op_kind::unlink:
        r.in_flight.push_back(k);
        break;
      case op_kind::write:
        apply_write(r.current[op.inode], op.offset, op.data, op.data.size());
        r.in_flight.push_back(k);
        break;
      case op_kind::truncate:
        r.current[op.inode].resize(op.offset, '\0');
        r.in_flight.push_back(k);
        break;
      case op_kind::datasync: {
        r.durable[op.inode] = r.current[op.inode];
        r.in_flight.erase(std::remove_if(r.in_flight.begin(), r.in_flight.end(),
                                         [&](std::size_t i) {
                                           return is_file_op(trace_[i].kind) && trace_[i].inode == op.inode;
                                         }),
                          r.in_flight.end());
        break;
      }
      case op_kind::dirsync: {
        // The names now: replay every directory operation so far.
        std::map<std::string, std::uint64_t> names;
        for (std::size_t j = 0; j <= k; ++j) {
          const file_op& d = trace_[j];
          if (d.kind == op_kind::create) names[d.name] = d.inode;
          if (d.kind == op_kind::unlink) {
            auto it = names.find(d.name);
            if (it != names.end() && it->second == d.inode) names.erase(it);
          }
        }
        r.durable_names = std::move(names);
        r.in_flight.erase(std::remove_if(r.in_flight.begin(), r.in_flight.end(),
                                         [&](std::size_t i) { return is_directory_op(trace_[i].kind); }),
                          r.in_flight.end());
        break;
      }
      case op_kind::mark:
        break;
    }
  }
  last_ = std::move(fresh);
  last_done_ = ops_done;
  return *last_;
}

std::uint32_t crash_model::limit_of(const file_op& op) const {
  if (op.kind != op_kind::write) return 1;
  // Sector boundaries strictly inside the write, plus its end.
  const std::uint64_t first = op.offset / sector_ + 1;
  const std::uint64_t end = op.offset + op.data.size();
  std::uint64_t inside = 0;
  for (std::uint64_t b = first * sector_; b < end; b += sector_) ++inside;
  return static_cast<std::uint32_t>(inside + 1);
}

std::uint64_t crash_model::kept_end(const file_op& op, std::uint32_t choice) const {
  const std::uint64_t end = op.offset + op.data.size();
  if (choice == 0) return op.offset;
  const std::uint64_t boundary = (op.offset / sector_ + choice) * sector_;
  return std::min(boundary, end);
}

std::uint64_t crash_model::state_count(std::size_t ops_done) const {
  std::uint64_t count = 1;
  for (std::uint32_t l : limits(ops_done)) {
    count *= l + 1;
    if (count > exhaustive_bound) return exhaustive_bound + 1;
  }
  return count;
}

std::vector<std::size_t> crash_model::in_flight(std::size_t ops_done) const { return replay(ops_done).in_flight; }

crash_choices crash_model::limits(std::size_t ops_done) const {
  crash_choices out;
  for (std::size_t k : replay(ops_done).in_flight) out.push_back(limit_of(trace_[k]));
  return out;
}

dir_image crash_model::build(std::size_t ops_done, const crash_choices& choices) const {
  const replayed& r = replay(ops_done);
  if (choices.size() != r.in_flight.size()) throw std::invalid_argument("crash_model: one choice per operation in flight");
  std::map<std::string, std::uint64_t> names = r.durable_names;
  // Directory operations reach the disk as a prefix, in the order they were made: a
  // journaling filesystem commits them in transactions, one after the other.
  bool prefix_intact = true;
  for (std::size_t c = 0; c < choices.size(); ++c) {
    const file_op& op = trace_[r.in_flight[c]];
    if (!is_directory_op(op.kind)) continue;
    if (choices[c] == 0) prefix_intact = false;
    if (!prefix_intact) continue;
    if (op.kind == op_kind::create) names[op.name] = op.inode;
    if (op.kind == op_kind::unlink) {
      auto it = names.find(op.name);
      if (it != names.end() && it->second == op.inode) names.erase(it);
    }
  }
  dir_image image;
  for (const auto& [name, inode] : names) {
    image_file f;
    f.inode = inode;
    auto d = r.durable.find(inode);
    if (d != r.durable.end()) f.bytes = d->second;
    for (std::size_t c = 0; c < choices.size(); ++c) {
      const file_op& op = trace_[r.in_flight[c]];
      if (op.inode != inode || choices[c] == 0) continue;
      if (op.kind == op_kind::write) apply_write(f.bytes, op.offset, op.data, kept_end(op, choices[c]) - op.offset);
      if (op.kind == op_kind::truncate) f.bytes.resize(op.offset, '\0');
    }
    image.emplace(name, std::move(f));
  }
  return image;
}

std::vector<crash_choices> crash_model::choices_to_try(std::size_t ops_done, std::mt19937_64& rng,
                                                      std::size_t random) const {
  const crash_choices limit = limits(ops_done);
  const std::size_t n = limit.size();
  std::vector<crash_choices> out;
  if (std::uint64_t all = state_count(ops_done); all <= exhaustive_bound) {
    // Few enough to try every state the model allows.
    crash_choices c(n, 0);
    for (std::uint64_t k = 0; k < all; ++k) {
      out.push_back(c);
      for (std::size_t i = 0; i < n && ++c[i] > limit[i]; ++i) c[i] = 0;
    }
    return out;
  }
  std::set<crash_choices> seen;
  auto add = [&](crash_choices c) {
    if (seen.insert(c).second) out.push_back(std::move(c));
  };
  add(crash_choices(n, 0));
  add(limit);
  for (std::size_t j = 0; j < n; ++j) {
    for (std::uint32_t v = 1; v < limit[j]; ++v) {
      crash_choices c(n, 0);
      for (std::size_t i = 0; i < j; ++i) c[i] = limit[i];
      c[j] = v;
      add(std::move(c));
    }
    crash_choices c(n, 0);
    for (std::size_t i = 0; i <= j; ++i) c[i] = limit[i];
    add(std::move(c));
  }
  for (std::size_t j = 0; j < n; ++j) {
    for (std::uint32_t v = 0; v < limit[j]; ++v) {
      crash_choices c = limit;
      c[j] = v;
      add(std::move(c));
    }
  }
  for (std::size_t k = 0; k < random && n > 0; ++k) {
    crash_choices c(n);
    for (std::size_t i = 0; i < n; ++i) c[i] = static_cast<std::uint32_t>(rng() % (limit[i] + 1));
    add(std::move(c));
  }
  return out;
}

}  // namespace plant::crash
