#include "common/spool/segment.hpp"

#include <unistd.h>

namespace plant::spool {

segment_file::~segment_file() {
  if (fd_ >= 0) ::close(fd_);
}

std::uint64_t segment::record_bytes(std::size_t first, std::size_t last) const {
  const std::uint64_t end = last + 1 < offsets.size() ? offsets[last + 1] : data_end;
  std::uint64_t bytes = end - offsets[first];
  // Damage between two intact records sits inside [offsets[first], end) but
  // belongs to no record: that is every gap after a record in first..last that
  // another record follows. A tail gap after the very last record lies past data_end.
  for (const gap& g : gaps) {
    if (g.after >= first && g.after <= last && g.after + 1 < offsets.size()) bytes -= g.length;
  }
  return bytes;
}

}  // namespace plant::spool
