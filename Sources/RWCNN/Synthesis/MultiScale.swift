// Coarse-to-fine optimisation: solve at a small size first, upsample the
// result and use it as the start at the next size, up to the final size.
// Large structures settle at the coarse scales, where steps are cheap.

/// One image size of a coarse-to-fine schedule.
public struct ImageSize: Equatable {
    public var height: Int
    public var width: Int

    public init(height: Int, width: Int) {
        self.height = height
        self.width = width
    }
}

/// The sizes of a coarse-to-fine run that ends at `final`, coarsest first:
/// scale i of `scales` is final / factor^(scales - 1 - i), each side
/// rounded to the nearest integer. Throws `.argument` unless scales >= 1,
/// factor > 1 (finite), and the coarsest size is at least `minimumSide` on
/// both sides (the smallest input the network accepts, e.g. 2^pools).
public func coarseToFineSizes(final: ImageSize, scales: Int, factor: Double = 2,
                              minimumSide: Int = 1) throws -> [ImageSize] {
    let op = "coarseToFineSizes"
    guard final.height >= 1, final.width >= 1 else {
        throw RWCNNError.argument("\(op): final size must be at least 1x1, got \(final.height)x\(final.width)")
    }
    guard scales >= 1, scales <= 16 else { throw RWCNNError.argument("\(op): scales must be in 1...16, got \(scales)") }
    guard factor.isFinite, factor > 1 else { throw RWCNNError.argument("\(op): factor must be finite and above 1, got \(factor)") }
    var sizes: [ImageSize] = []
    for i in 0..<scales {
        let shrink = pow(factor, Double(scales - 1 - i))
        let size = ImageSize(height: Int((Double(final.height) / shrink).rounded()),
                             width: Int((Double(final.width) / shrink).rounded()))
        guard size.height >= minimumSide, size.width >= minimumSide, size.height >= 1, size.width >= 1 else {
            throw RWCNNError.argument("\(op): scale \(i + 1) of \(scales) would be \(size.height)x\(size.width), below the minimum side \(minimumSide); use fewer scales or a smaller factor")
        }
        sizes.append(size)
    }
    return sizes
}

/// Runs `optimise(start, scaleIndex)` at each of `sizes` in order: the
/// first start is `start` resized (area-aware bilinear, `resizeBilinear`)
/// to sizes[0]; each later start is the previous result resized to the
/// next size. `start` is [C,H,W] or [N,C,H,W]; `optimise` must return an
/// image of the size it was given. Returns the result at the last size.
public func coarseToFine(start: Tensor, sizes: [ImageSize],
                         optimise: (Tensor, Int) throws -> Tensor) throws -> Tensor {
    guard !sizes.isEmpty else { throw RWCNNError.argument("coarseToFine: no sizes") }
    var image = start
    for (i, size) in sizes.enumerated() {
        let input = try resizeBilinear(image, height: size.height, width: size.width)
        image = try optimise(input, i)
        guard image.shape == input.shape else {
            throw RWCNNError.argument("coarseToFine: the optimiser returned shape \(image.shape) at scale \(i + 1), expected \(input.shape)")
        }
    }
    return image
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
