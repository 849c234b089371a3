"""Seeded random streams addressed by absolute time.

Every random number the simulators use comes from here. A stream is a PCG64 generator keyed
by (seed, stream name); the value for a given instant sits at a fixed position in that stream
(`PCG64.advance` jumps there without drawing what lies before). So randomness is a function of
(seed, name, time) alone: simulating June on its own gives exactly the June of a whole-year
run, and a backfill followed by live publishing joins without a seam.

Normals are made from two uniforms by Box-Muller rather than by `Generator.normal`, because
the ziggurat method consumes a variable number of draws and would break the fixed positions.
"""

from __future__ import annotations

import zlib
from statistics import NormalDist

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


class Streams:
    """Named, time-addressable random streams derived from one integer seed."""

    def __init__(self, seed: int) -> None:
        if seed < 0:
            raise ValueError(f"seed must be zero or positive, not {seed}")
        self.seed = seed

    def _generator(self, name: str, position: int) -> np.random.Generator:
        if position < 0:
            raise ValueError(f"stream {name!r}: times before 1970 are not supported")
        # crc32, not hash(): Python salts str hashes per process, which would break
        # "same seed, same data" across runs.
        bits = np.random.PCG64(np.random.SeedSequence([self.seed, zlib.crc32(name.encode())]))
        bits.advance(position)
        return np.random.Generator(bits)

    def uniform(self, name: str, first: int, count: int) -> FloatArray:
        """Uniforms in [0, 1) at integer indices first .. first+count-1 of the stream."""
        if count <= 0:
            return np.empty(0)
        return self._generator(name, first).random(count)

    def normal(self, name: str, first: int, count: int) -> FloatArray:
        """Standard normals at integer indices first .. first+count-1 (two draws each)."""
        if count <= 0:
            return np.empty(0)
        u = self._generator(name, 2 * first).random(2 * count).reshape(count, 2)
        radius = np.sqrt(-2.0 * np.log1p(-u[:, 0]))  # 1-u is in (0, 1]: log is finite
        result: FloatArray = radius * np.cos(2.0 * np.pi * u[:, 1])
        return result

    def white(self, name: str, times_s: IntArray, resolution_s: int) -> FloatArray:
        """One standard normal per `resolution_s` slot of absolute time, looked up at times_s."""
        if times_s.size == 0:
            return np.empty(0)
        slots = times_s // resolution_s
        first = int(slots.min())
        draws = self.normal(name, first, int(slots.max()) - first + 1)
        result: FloatArray = draws[slots - first]
        return result

    def white_uniform(self, name: str, times_s: IntArray, resolution_s: int) -> FloatArray:
        """One uniform in [0, 1) per `resolution_s` slot of absolute time, at times_s."""
        if times_s.size == 0:
            return np.empty(0)
        slots = times_s // resolution_s
        first = int(slots.min())
        draws = self.uniform(name, first, int(slots.max()) - first + 1)
        result: FloatArray = draws[slots - first]
        return result

    def stratified(self, name: str, first: int, count: int, block: int) -> FloatArray:
        """Standard normals whose every block of `block` indices is a shuffle of the same
        `block` normal quantiles: random order, but each block has the full distribution.
        """
        if count <= 0:
            return np.empty(0)
        b0 = first // block
        b1 = (first + count - 1) // block
        u = self.uniform(name, b0 * block, (b1 - b0 + 1) * block).reshape(-1, block)
        ranks = np.argsort(np.argsort(u, axis=1), axis=1)
        dist = NormalDist()
        quantiles = np.asarray([dist.inv_cdf((i + 0.5) / block) for i in range(block)])
        quantiles /= quantiles.std()  # unit variance, as for independent normals
        values: FloatArray = quantiles[ranks].ravel()
        offset = first - b0 * block
        result: FloatArray = values[offset:offset + count]
        return result

    def smooth(
        self, name: str, times_s: IntArray, knot_s: int, stratify: int = 0
    ) -> FloatArray:
        """A smooth process with unit variance, correlated over about `knot_s` seconds.

        Independent normals sit on knots every `knot_s` seconds of absolute time; between two
        knots they are blended with a smoothstep weight, renormalised so the variance stays 1
        (a plain blend would sag to 0.5 half-way and make the mid-knot hours calmer).
        With `stratify` > 0 the knots come from `stratified` blocks of that many knots.
        """
        if times_s.size == 0:
            return np.empty(0)
        knots = times_s // knot_s
        first = int(knots.min())
        count = int(knots.max()) - first + 2
        values = (self.stratified(name, first, count, stratify) if stratify
                  else self.normal(name, first, count))
        frac = (times_s - knots * knot_s) / knot_s
        w1 = frac * frac * (3.0 - 2.0 * frac)
        w0 = 1.0 - w1
        i = knots - first
        result: FloatArray = (w0 * values[i] + w1 * values[i + 1]) / np.sqrt(w0 * w0 + w1 * w1)
        return result
