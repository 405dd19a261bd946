import RWCNN

// MARK: colour-fitted figures (issue 11): the fitted PSNR

@_cdecl("rwcnn_fitted_psnr")
public func rwcnn_fitted_psnr(_ reconstruction: UnsafePointer<Float>?, _ original: UnsafePointer<Float>?, _ n: Int,
                              _ c: Int, _ h: Int, _ w: Int, _ colourMap: Int32,
                              _ out: UnsafeMutablePointer<Double>?) -> Int32 {
    capi {
        let out = try required(out, "out")
        let kind = try Vocabulary.colourMap.decode(Int(colourMap), as: ColourMapKind.self, field: "colour_map")
        let (shape, count) = try batchShape(n, c, h, w, what: "images")
        let r = try tensor(from: reconstruction, shape: shape, count: count, name: "reconstruction")
        let o = try tensor(from: original, shape: shape, count: count, name: "original")
        out.pointee = try Metrics.fittedPSNR(reconstruction: r, original: o, kind: kind)
    }
}
