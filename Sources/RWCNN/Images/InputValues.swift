// What the encoder accepts as pixel values, checked once here for every
// surface (Swift, the C ABI, Python): silent garbage in (NaN, 0..255 data
// in a float image) is an argument error with a hint, not a meaningless
// reconstruction.

/// The largest float pixel value accepted. Images are in [0, 1]; values a
/// little above 1 (from resampling by hand) are let through, while 0..255
/// data, almost always above 2 somewhere, is caught.
public let maximumPixelValue: Float = 1.5

/// Throws `.argument` when `t` holds a NaN or an infinity.
public func checkFinite(_ t: Tensor, what: String) throws {
    let bad = t.data.withUnsafeBufferPointer { p -> Int? in
        for i in p.indices where !p[i].isFinite { return i }
        return nil
    }
    if let i = bad {
        let v = t.data[i]
        throw RWCNNError.argument("\(what) contain \(v.isNaN ? "NaN" : "infinite") (non-finite) values (first at flat index \(i)); they must be finite")
    }
}

/// Throws `.argument` unless every value of the image batch `t` is finite
/// and at most `maximumPixelValue` (images are float in [0, 1]).
public func checkPixelValues(_ t: Tensor, what: String = "images") throws {
    try checkFinite(t, what: what)
    let top = t.data.withUnsafeBufferPointer { p in p.reduce(-Float.infinity) { max($0, $1) } }
    guard top <= maximumPixelValue else {
        throw RWCNNError.argument("\(what): float values must lie in [0, 1], but these reach \(top) (0..255 data? divide it by 255, or pass 8-bit samples where the interface takes them)")
    }
}
