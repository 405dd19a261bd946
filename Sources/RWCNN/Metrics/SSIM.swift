#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// SSIM with scikit-image's Gaussian settings. Only the pixels at least
// `radius` from the border enter the mean, and there the 11 x 11 window lies
// inside the image, so no border padding is ever needed: each plane is
// filtered along rows, then columns, over the valid region only.

/// The Gaussian window of scikit-image / scipy.ndimage for sigma 1.5 and
/// truncate 3.5: radius int(3.5 * 1.5 + 0.5) = 5, weights exp(-x^2 / (2 sigma^2))
/// normalised to sum 1.
enum SSIMWindow {
    static let sigma = 1.5
    static let radius = 5
    static let size = 2 * radius + 1
    static let weights: [Double] = {
        let raw = (-radius...radius).map { exp(-0.5 * Double($0 * $0) / (sigma * sigma)) }
        let sum = raw.reduce(0, +)
        return raw.map { $0 / sum }
    }()
    static let c1 = 0.01 * 0.01  // (K1 * data range)^2
    static let c2 = 0.03 * 0.03  // (K2 * data range)^2
}

extension Metrics {
    /// Mean SSIM over all planes (channels of all images); sizes already checked.
    static func meanSSIM(_ a: Tensor, _ b: Tensor, _ l: ImagePairLayout) -> Double {
        // Mean over channels, then over images (equal weights, so the plain mean).
        imageSSIMs(a, b, l).reduce(0, +) / Double(l.n)
    }

    /// SSIM of each image (the mean over its channels); sizes already checked.
    static func imageSSIMs(_ a: Tensor, _ b: Tensor, _ l: ImagePairLayout) -> [Double] {
        let planes = l.n * l.c, planeSize = l.h * l.w
        var perPlane = [Double](repeating: 0, count: planes)
        // Read here, before the workers start: a lazy global first touched
        // inside the parallel section would be initialised under the Swift
        // runtime's once, which ThreadSanitizer cannot see (`--sanitize`).
        let window = SSIMWindow.weights
        a.data.withUnsafeBufferPointer { x in
            b.data.withUnsafeBufferPointer { y in
                perPlane.withUnsafeMutableBufferPointer { out in
                    parallelFor(planes) { range in
                        for p in range {
                            out[p] = planeSSIM(x.baseAddress! + p * planeSize, y.baseAddress! + p * planeSize, h: l.h, w: l.w,
                                               window: window)
                        }
                    }
                }
            }
        }
        return (0..<l.n).map { i in perPlane[(i * l.c)..<((i + 1) * l.c)].reduce(0, +) / Double(l.c) }
    }

    /// SSIM of one h x w plane pair, averaged over the valid (cropped) region.
    static func planeSSIM(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, h: Int, w: Int,
                          window: [Double] = SSIMWindow.weights) -> Double {
        let r = SSIMWindow.radius, taps = SSIMWindow.size
        let vw = w - 2 * r, vh = h - 2 * r
        // Row pass: five moments (x, y, xx, yy, xy) per row and valid column.
        var rows = [Double](repeating: 0, count: 5 * h * vw)
        window.withUnsafeBufferPointer { g in
            rows.withUnsafeMutableBufferPointer { m in
                for row in 0..<h {
                    let xr = x + row * w, yr = y + row * w
                    for col in 0..<vw {
                        var sx = 0.0, sy = 0.0, sxx = 0.0, syy = 0.0, sxy = 0.0
                        for k in 0..<taps {
                            let a = Double(xr[col + k]), b = Double(yr[col + k]), gk = g[k]
                            sx += gk * a; sy += gk * b
                            sxx += gk * a * a; syy += gk * b * b; sxy += gk * a * b
                        }
                        let at = 5 * (row * vw + col)
                        m[at] = sx; m[at + 1] = sy; m[at + 2] = sxx; m[at + 3] = syy; m[at + 4] = sxy
                    }
                }
            }
        }
        // Column pass and the SSIM formula.
        var total = 0.0
        window.withUnsafeBufferPointer { g in
            rows.withUnsafeBufferPointer { m in
                for row in 0..<vh {
                    for col in 0..<vw {
                        var ux = 0.0, uy = 0.0, uxx = 0.0, uyy = 0.0, uxy = 0.0
                        for k in 0..<taps {
                            let at = 5 * ((row + k) * vw + col), gk = g[k]
                            ux += gk * m[at]; uy += gk * m[at + 1]
                            uxx += gk * m[at + 2]; uyy += gk * m[at + 3]; uxy += gk * m[at + 4]
                        }
                        let vx = uxx - ux * ux, vy = uyy - uy * uy, vxy = uxy - ux * uy
                        let numerator = (2 * ux * uy + SSIMWindow.c1) * (2 * vxy + SSIMWindow.c2)
                        let denominator = (ux * ux + uy * uy + SSIMWindow.c1) * (vx + vy + SSIMWindow.c2)
                        total += numerator / denominator
                    }
                }
            }
        }
        return total / Double(vh * vw)
    }
}
