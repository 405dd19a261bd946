import CRWCNN
import RWCNN

// The sized `_init` functions: defaults written into a caller's options
// struct only as far as the caller says it goes. A program built against an
// older, smaller struct is never written past its end, and its
// `struct_size` then tells the readers (`readPrefix`) which fields it has.
//
// The unsized `_init` functions write the struct as it was when the sized
// forms arrived (ABI 0.1; the `frozen` sizes below), so a program built
// against that header stays safe with any later library too. When a field
// is added to one of these structs, its `frozen` size keeps the old value
// (tests/c/test_capi.c, test_sized_init, pins them and fails until then),
// and the new field is written by the sized form only.

/// Writes the first `size` bytes of `defaults` (its `struct_size` set to
/// `size`) to `p`; bytes of a larger, newer struct that this library does
/// not know are zeroed, and nothing past `size` is touched.
func initPrefix<T>(_ defaults: T, to p: UnsafeMutableRawPointer?, size: Int, what: String) throws {
    let p = try required(p, what)
    guard size >= MemoryLayout<Int>.size, size <= 1 << 16 else {
        throw RWCNNError.argument("\(what) size \(size) is not a struct size: pass sizeof(\(what)) of your header")
    }
    let known = min(size, MemoryLayout<T>.size)
    withUnsafeBytes(of: defaults) { p.copyMemory(from: $0.baseAddress!, byteCount: known) }
    if size > known { (p + known).initializeMemory(as: UInt8.self, repeating: 0, count: size - known) }
    p.storeBytes(of: size, as: Int.self)
}

/// The sizes the unsized `_init` functions write: the structs of ABI 0.1.
enum FrozenSize {
    static let modelConfig = MemoryLayout<rwcnn_model_config>.size
    static let trainOptions = MemoryLayout<rwcnn_train_options>.size
    static let synthesisOptions = MemoryLayout<rwcnn_synthesis_options>.size
    /// Fields after 0.1: output_layer_scale.
    static let fastStyleOptions = MemoryLayout<rwcnn_fast_style_options>.offset(of: \.output_layer_scale)!
}

@_cdecl("rwcnn_model_config_init_sized")
public func rwcnn_model_config_init_sized(_ c: UnsafeMutablePointer<rwcnn_model_config>?, _ size: Int) -> Int32 {
    capi { try initPrefix(modelConfigDefaults(), to: UnsafeMutableRawPointer(c), size: size, what: "rwcnn_model_config") }
}

@_cdecl("rwcnn_train_options_init_sized")
public func rwcnn_train_options_init_sized(_ o: UnsafeMutablePointer<rwcnn_train_options>?, _ size: Int) -> Int32 {
    capi { try initPrefix(trainOptionsDefaults(), to: UnsafeMutableRawPointer(o), size: size, what: "rwcnn_train_options") }
}

@_cdecl("rwcnn_synthesis_options_init_sized")
public func rwcnn_synthesis_options_init_sized(_ o: UnsafeMutablePointer<rwcnn_synthesis_options>?,
                                                _ size: Int) -> Int32 {
    capi {
        try initPrefix(cSynthesisOptions(SynthesisOptions()), to: UnsafeMutableRawPointer(o), size: size,
                       what: "rwcnn_synthesis_options")
    }
}

@_cdecl("rwcnn_fast_style_options_init_sized")
public func rwcnn_fast_style_options_init_sized(_ o: UnsafeMutablePointer<rwcnn_fast_style_options>?,
                                                 _ size: Int) -> Int32 {
    capi { try initPrefix(fastStyleDefaults(), to: UnsafeMutableRawPointer(o), size: size, what: "rwcnn_fast_style_options") }
}
