/// A sequential reader over one Philox stream, for code that needs a few
/// numbers in order (shuffles, crop offsets) rather than a tensor.
///
/// It returns the four words of block `position` in order, then moves to the
/// next block. Because `position` is the block counter, a reader can jump to
/// any block (setting it restarts at that block's word 0), which is how
/// resumed runs get exactly the numbers an uninterrupted run would.
public struct RandomStream {
    public let seed: UInt64
    public let stream: UInt64
    private var blockIndex: UInt64
    private var wordIndex = 0
    private var words = SIMD4<UInt32>()

    public init(seed: UInt64, stream: UInt64) {
        self.seed = seed
        self.stream = stream
        self.blockIndex = 0
    }

    /// The block the next word comes from. Setting it restarts at word 0 of that block.
    public var position: UInt64 {
        get { blockIndex }
        set { blockIndex = newValue; wordIndex = 0 }
    }

    /// The next 32 random bits.
    public mutating func nextUInt32() -> UInt32 {
        if wordIndex == 0 { words = Philox4x32.block(seed: seed, stream: stream, index: blockIndex) }
        let w = words[wordIndex]
        wordIndex += 1
        if wordIndex == 4 { wordIndex = 0; blockIndex &+= 1 }
        return w
    }

    /// A uniform number strictly inside (0, 1), from one word: (w + 0.5) / 2^32.
    public mutating func nextUniform() -> Double {
        Philox4x32.unitOpen(nextUInt32())
    }

    /// A uniform integer in 0..<n without modulo bias: words (or, for n above
    /// 2^32, pairs of words, low word first) at or above the largest multiple
    /// of n that fits are rejected and redrawn. Returns 0 when n <= 1.
    public mutating func nextInt(below n: Int) -> Int {
        if n <= 1 { return 0 }
        let bound = UInt64(n)
        if bound <= 1 << 32 {
            let range: UInt64 = 1 << 32
            let limit = range - range % bound
            while true {
                let w = UInt64(nextUInt32())
                if w < limit { return Int(w % bound) }
            }
        }
        // 64-bit draws: accept w < limit, where limit = 2^64 - (2^64 mod n).
        let rest = (UInt64.max % bound &+ 1) % bound  // 2^64 mod n
        while true {
            let w = UInt64(nextUInt32()) | UInt64(nextUInt32()) << 32
            if rest == 0 || w < 0 &- rest { return Int(w % bound) }
        }
    }
}
