/// Philox4x32-10, the counter-based generator of Salmon, Moraes, Dror and
/// Shaw ("Parallel random numbers: as easy as 1, 2, 3", SC'11).
///
/// A block is a pure function of (counter, key), so any value of any stream
/// can be computed directly from its index: no state, no ordering between
/// threads, the same bits everywhere. Checked against the published
/// known-answer vectors (Tests/RWCNNTests/Data/philox4x32_10_kat.txt).
public enum Philox4x32 {
    @usableFromInline static let m0: UInt32 = 0xD251_1F53
    @usableFromInline static let m1: UInt32 = 0xCD9E_8D57
    @usableFromInline static let w0: UInt32 = 0x9E37_79B9
    @usableFromInline static let w1: UInt32 = 0xBB67_AE85

    /// The four output words for one counter under one key (10 rounds).
    @inlinable
    public static func block(counter: SIMD4<UInt32>, key: SIMD2<UInt32>) -> SIMD4<UInt32> {
        var c = counter
        var k = key
        for round in 0..<10 {
            if round > 0 { k &+= SIMD2(w0, w1) }  // the key is bumped between rounds
            let p0 = UInt64(m0) &* UInt64(c[0])
            let p1 = UInt64(m1) &* UInt64(c[2])
            let hi0 = UInt32(truncatingIfNeeded: p0 >> 32), lo0 = UInt32(truncatingIfNeeded: p0)
            let hi1 = UInt32(truncatingIfNeeded: p1 >> 32), lo1 = UInt32(truncatingIfNeeded: p1)
            c = SIMD4(hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0)
        }
        return c
    }

    /// Block `index` of stream `stream` under `seed`: the counter is
    /// (index low, index high, stream low, stream high), the key (seed low, seed high).
    @inlinable
    static func block(seed: UInt64, stream: UInt64, index: UInt64) -> SIMD4<UInt32> {
        block(counter: SIMD4(UInt32(truncatingIfNeeded: index), UInt32(truncatingIfNeeded: index >> 32),
                             UInt32(truncatingIfNeeded: stream), UInt32(truncatingIfNeeded: stream >> 32)),
              key: SIMD2(UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32)))
    }

    /// A word as a uniform number strictly inside (0, 1): (w + 0.5) / 2^32.
    @inlinable
    static func unitOpen(_ w: UInt32) -> Double {
        (Double(w) + 0.5) * 0x1p-32
    }
}
