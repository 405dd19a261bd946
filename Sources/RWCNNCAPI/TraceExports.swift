import CRWCNN
import RWCNN

// Encode now, decode later: rwcnn_trace is the encoder's trace (layer input
// sizes, pool switches) of one encode, owned by the caller until
// rwcnn_trace_free. It holds no reference to the model.

/// What an `rwcnn_trace *` points to.
final class TraceHandle {
    let trace: EncoderTrace
    /// [N, C, h, w] of the features the traced pass produced.
    let featureShape: [Int]

    init(_ trace: EncoderTrace, featureShape: [Int]) {
        self.trace = trace
        self.featureShape = featureShape
    }
}

func traceHandle(_ p: OpaquePointer?) throws -> TraceHandle {
    let p = try required(p, "trace")
    return Unmanaged<TraceHandle>.fromOpaque(UnsafeRawPointer(p)).takeUnretainedValue()
}

@_cdecl("rwcnn_model_encode_trace")
public func rwcnn_model_encode_trace(_ p: OpaquePointer?, _ images: UnsafePointer<Float>?, _ n: Int, _ c: Int,
                                     _ h: Int, _ w: Int, _ out: UnsafeMutablePointer<Float>?, _ capacity: Int,
                                     _ trace: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    capi {
        let model = try handle(p).model
        let traceOut = try required(trace, "trace")
        let (shape, count) = try batchShape(n, c, h, w, what: "images")
        let fs = try model.featureShape(height: h, width: w)
        try checkCapacity(out, capacity, needed: checkedProduct([n] + fs, what: "features"), name: "features")
        let x = try tensor(from: images, shape: shape, count: count, name: "images")
        let (features, t) = try model.encodeWithTrace(x)
        try copy(features, to: out, capacity: capacity, name: "features")
        traceOut.pointee = OpaquePointer(Unmanaged.passRetained(TraceHandle(t, featureShape: features.shape)).toOpaque())
    }
}

@_cdecl("rwcnn_model_decode_trace")
public func rwcnn_model_decode_trace(_ p: OpaquePointer?, _ tp: OpaquePointer?, _ features: UnsafePointer<Float>?,
                                     _ n: Int, _ c: Int, _ fh: Int, _ fw: Int,
                                     _ out: UnsafeMutablePointer<Float>?, _ capacity: Int) -> Int32 {
    capi {
        let model = try handle(p).model
        let t = try traceHandle(tp)
        let (shape, count) = try batchShape(n, c, fh, fw, what: "features")
        guard shape == t.featureShape else {
            throw RWCNNError.argument("features are \(shape); the trace is of features \(t.featureShape)")
        }
        let input = t.trace.inputShapes.first ?? []
        try checkCapacity(out, capacity, needed: checkedProduct(input, what: "images"), name: "images")
        let f = try tensor(from: features, shape: shape, count: count, name: "features")
        try copy(model.decode(f, trace: t.trace), to: out, capacity: capacity, name: "images")
    }
}

@_cdecl("rwcnn_trace_shapes")
public func rwcnn_trace_shapes(_ tp: OpaquePointer?, _ input: UnsafeMutablePointer<Int>?,
                               _ features: UnsafeMutablePointer<Int>?) -> Int32 {
    capi {
        let t = try traceHandle(tp)
        let first = t.trace.inputShapes.first ?? []
        guard first.count == 4, t.featureShape.count == 4 else { throw RWCNNError.internal("a trace without shapes") }
        if let input { for i in 0..<4 { input[i] = first[i] } }
        if let features { for i in 0..<4 { features[i] = t.featureShape[i] } }
    }
}

@_cdecl("rwcnn_trace_free")
public func rwcnn_trace_free(_ p: OpaquePointer?) {
    guard let p else { return }
    Unmanaged<TraceHandle>.fromOpaque(UnsafeRawPointer(p)).release()
}
