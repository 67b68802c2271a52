#pragma once
/// An exponentially weighted least-squares straight line through a stream of
/// points, with one slope shared by consecutive segments that each keep their own
/// level. Pure arithmetic, O(1) per point. The stock estimator uses x = running
/// hours and y = quantity, and opens a new segment at every delivery or gap: the
/// size of a step is then estimated from all the readings after it, and the
/// slope (consumption) from all readings, without ever seeing the step.
#include <cstdint>

namespace plant::edge {

class line_fit {
 public:
  /// Points lose half their weight for every `half_life` that x advances (> 0).
  explicit line_fit(double half_life);

  /// Adds the next point, `dx` (>= 0) after the newest one and `dy` above it, to the current segment.
  void add(double dx, double dy);
  /// Adds the next point, `dx` (>= 0) after the newest one, as the first of a new segment
  /// (its level is free: the change in y across the boundary is not known and not used).
  void add_segment(double dx);

  /// The common slope (dy/dx); 0 while the points have no spread in x.
  double slope() const;
  /// The fitted y at the newest point, relative to that point's y.
  double level() const;
  /// The weighted standard deviation of x within the segments: how well the slope is pinned.
  double spread() const;
  /// Total weight (about the number of points within a half-life or two).
  double weight() const { return history_.s0 + segment_.s0; }
  /// Points added so far.
  std::uint64_t points() const { return points_; }

 private:
  // Weighted sums of one group, relative to the newest point.
  struct sums {
    double s0 = 0.0, sx = 0.0, sxx = 0.0, sy = 0.0, sxy = 0.0;
    void shift(double dx, double dy);
    void scale(double factor);
    double centred_sxx() const;
    double centred_sxy() const;
  };

  void advance(double dx, double dy);
  void merge_segment();

  double half_life_;
  sums history_;  // earlier segments, each moved onto the line when it closed
  sums segment_;  // the current segment
  std::uint64_t points_ = 0;
};

}  // namespace plant::edge
