/// A safetensors file (https://github.com/huggingface/safetensors): an 8-byte
/// little-endian header length N, N bytes of JSON header, then the raw data.
/// The header maps each tensor name to {"dtype", "shape", "data_offsets":
/// [begin, end]} (offsets into the data, relative to its start) and may hold
/// a "__metadata__" object of string values.
///
/// Writing: F32 little-endian, tensors contiguous in the given order, header
/// members in the same order (metadata first, keys sorted), header padded
/// with spaces to a multiple of 8 bytes so the data is aligned.
/// Reading: F32, F64, F16 and BF16 (converted to Float); tensors are returned
/// in data order. Every inconsistency is a `.format` error, never a crash.
public struct SafetensorsFile {
    public var metadata: [String: String]
    public var tensors: [(name: String, tensor: Tensor)]

    /// The largest header accepted when reading (100 MB), against absurd lengths.
    public static let maxHeaderBytes = 100_000_000

    public init(metadata: [String: String] = [:], tensors: [(name: String, tensor: Tensor)] = []) {
        self.metadata = metadata
        self.tensors = tensors
    }

    /// The first tensor called `named`, if any.
    public func tensor(named: String) -> Tensor? {
        tensors.first { $0.name == named }?.tensor
    }

    /// Reads and decodes the file at `path` (errors name the path).
    public static func read(path: String) throws -> SafetensorsFile {
        let bytes = try readFile(path: path)
        do {
            return try decode(bytes: bytes)
        } catch RWCNNError.format(let m) {
            throw RWCNNError.format("\(path): \(m)")
        }
    }

    /// Encodes and writes the file atomically (see `writeFileAtomically`).
    public func write(path: String) throws {
        try writeFileAtomically(path: path, bytes: encode())
    }

    /// The file's bytes. Throws `.argument` for an empty, duplicate or
    /// reserved ("__metadata__") tensor name.
    public func encode() throws -> [UInt8] {
        var members: [(String, JSONValue)] = []
        if !metadata.isEmpty {
            members.append(("__metadata__", .object(metadata.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })))
        }
        var names = Set<String>()
        var offset = 0
        for (name, t) in tensors {
            guard !name.isEmpty else { throw RWCNNError.argument("safetensors: empty tensor name") }
            guard name != "__metadata__" else { throw RWCNNError.argument("safetensors: \"__metadata__\" cannot name a tensor") }
            guard names.insert(name).inserted else { throw RWCNNError.argument("safetensors: duplicate tensor name \"\(name)\"") }
            let count = try checkedProduct(t.shape, what: "safetensors tensor \(name)")
            guard count == t.data.count else {
                throw RWCNNError.argument("safetensors: tensor \(name) has \(t.data.count) values for shape \(t.shape)")
            }
            let (size, o1) = count.multipliedReportingOverflow(by: 4)
            let (end, o2) = offset.addingReportingOverflow(size)
            guard !o1, !o2 else { throw RWCNNError.outOfMemory("safetensors: the tensors' total size overflows") }
            members.append((name, .object([
                ("dtype", .string("F32")),
                ("shape", .array(t.shape.map { .number(Double($0)) })),
                ("data_offsets", .array([.number(Double(offset)), .number(Double(end))])),
            ])))
            offset = end
        }
        var header = Array(try JSONValue.object(members).serialized().utf8)
        header.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - header.count % 8) % 8))
        var out = [UInt8](repeating: 0, count: 8 + header.count + offset)
        out.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: UInt64(header.count).littleEndian, as: UInt64.self)
            var at = 8
            for b in header { raw[at] = b; at += 1 }
            for (_, t) in tensors {
                t.data.withUnsafeBufferPointer { values in
                    for v in values {
                        raw.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: at, as: UInt32.self)
                        at += 4
                    }
                }
            }
        }
        return out
    }

    /// Decodes a whole file held in memory.
    public static func decode(bytes: [UInt8]) throws -> SafetensorsFile {
        func bad(_ m: String) -> RWCNNError { .format("safetensors: \(m)") }
        guard bytes.count >= 8 else {
            throw bad("\(bytes.count) bytes is too short for the 8-byte header length")
        }
        let headerLength = bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard headerLength <= UInt64(maxHeaderBytes) else {
            throw bad("header length \(headerLength) is above the \(maxHeaderBytes)-byte limit")
        }
        let n = Int(headerLength)
        guard n <= bytes.count - 8 else {
            throw bad("header length \(n) goes beyond the end of the file (\(bytes.count - 8) bytes follow it)")
        }
        let header: JSONValue
        do {
            header = try JSONValue.parse(bytes[8..<(8 + n)])
        } catch RWCNNError.format(let m) {
            throw bad("bad header: \(m)")
        }
        guard case .object(let members) = header else { throw bad("the header is not a JSON object") }
        let dataStart = 8 + n
        let dataLength = bytes.count - dataStart

        var metadata: [String: String] = [:]
        var entries: [SafetensorsEntry] = []
        for (name, value) in members {
            if name == "__metadata__" {
                guard case .object(let items) = value else { throw bad("__metadata__ is not an object") }
                for (k, v) in items {
                    guard case .string(let s) = v else { throw bad("__metadata__ value of \"\(k)\" is not a string") }
                    metadata[k] = s
                }
                continue
            }
            entries.append(try SafetensorsEntry(name: name, json: value, dataLength: dataLength))
        }

        // The tensors must tile the data exactly: sorted by offset, each starts
        // where the previous one ends, and the last ends at the end of the file.
        let ordered = entries.enumerated().sorted {
            ($0.element.begin, $0.element.end, $0.offset) < ($1.element.begin, $1.element.end, $1.offset)
        }.map(\.element)
        var expectedBegin = 0
        for e in ordered {
            if e.begin < expectedBegin { throw bad("tensor \"\(e.name)\" overlaps the previous tensor's data") }
            if e.begin > expectedBegin { throw bad("a gap of unused data before tensor \"\(e.name)\" (bytes \(expectedBegin)..<\(e.begin))") }
            expectedBegin = e.end
        }
        guard expectedBegin == dataLength else {
            throw bad("the data has \(dataLength - expectedBegin) bytes after the last tensor (or the file is padded)")
        }

        var tensors: [(name: String, tensor: Tensor)] = []
        tensors.reserveCapacity(ordered.count)
        try bytes.withUnsafeBytes { raw in
            for e in ordered {
                let src = UnsafeRawBufferPointer(rebasing: raw[(dataStart + e.begin)..<(dataStart + e.end)])
                let values = [Float](unsafeUninitializedCapacity: e.count) { out, initialized in
                    e.dtype.convert(src, into: out)
                    initialized = e.count
                }
                tensors.append((e.name, try Tensor(shape: e.shape, data: values)))
            }
        }
        return SafetensorsFile(metadata: metadata, tensors: tensors)
    }
}

/// The element types the reader understands.
private enum SafetensorsDType: String {
    case f32 = "F32", f64 = "F64", f16 = "F16", bf16 = "BF16"

    var size: Int {
        switch self {
        case .f32: return 4
        case .f64: return 8
        case .f16, .bf16: return 2
        }
    }

    /// Converts little-endian elements to Float; `out.count` elements.
    func convert(_ src: UnsafeRawBufferPointer, into out: UnsafeMutableBufferPointer<Float>) {
        switch self {
        case .f32:
            for i in 0..<out.count {
                (out.baseAddress! + i).initialize(to: Float(bitPattern: UInt32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))))
            }
        case .f64:
            for i in 0..<out.count {
                (out.baseAddress! + i).initialize(to: Float(Double(bitPattern: UInt64(littleEndian: src.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))))
            }
        case .f16:
            for i in 0..<out.count {
                (out.baseAddress! + i).initialize(to: floatFromHalfBits(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))))
            }
        case .bf16:
            for i in 0..<out.count {
                let h = UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                (out.baseAddress! + i).initialize(to: Float(bitPattern: UInt32(h) << 16))
            }
        }
    }
}

/// IEEE binary16 to Float, exactly (every half is a float).
@inline(__always)
private func floatFromHalfBits(_ h: UInt16) -> Float {
    let sign: Float = h & 0x8000 != 0 ? -1 : 1
    let exponent = Int(h >> 10) & 0x1F
    let mantissa = UInt32(h & 0x3FF)
    switch exponent {
    case 0: return sign * Float(mantissa) * 0x1p-24  // zero and subnormals
    case 0x1F:
        let bits = UInt32(h & 0x8000) << 16 | 0x7F80_0000 | mantissa << 13  // inf, NaN (payload kept)
        return Float(bitPattern: bits)
    default:
        return Float(bitPattern: UInt32(h & 0x8000) << 16 | UInt32(exponent - 15 + 127) << 23 | mantissa << 13)
    }
}

/// One tensor's header entry, validated against the data length.
private struct SafetensorsEntry {
    let name: String
    let dtype: SafetensorsDType
    let shape: [Int]
    let count: Int
    let begin: Int
    let end: Int

    init(name: String, json: JSONValue, dataLength: Int) throws {
        func bad(_ m: String) -> RWCNNError { .format("safetensors: tensor \"\(name)\": \(m)") }
        guard case .object = json else { throw bad("its header entry is not an object") }
        guard case .string(let dt)? = json["dtype"] else { throw bad("missing or non-string dtype") }
        guard let dtype = SafetensorsDType(rawValue: dt) else {
            throw bad("dtype \(dt) is not supported (rwcnn reads F32, F64, F16 and BF16)")
        }
        guard case .array(let dims)? = json["shape"] else { throw bad("missing or non-array shape") }
        let shape = try dims.map { d -> Int in
            guard let v = SafetensorsEntry.integer(d) else { throw bad("shape \(SafetensorsEntry.describe(dims)) holds something other than a non-negative integer") }
            return v
        }
        guard case .array(let offs)? = json["data_offsets"], offs.count == 2,
              let begin = SafetensorsEntry.integer(offs[0]), let end = SafetensorsEntry.integer(offs[1]) else {
            throw bad("data_offsets must be two non-negative integers")
        }
        guard begin <= end, end <= dataLength else {
            throw bad("data_offsets [\(begin), \(end)] are out of range (the data has \(dataLength) bytes)")
        }
        var count = 1
        for d in shape {
            let (p, o) = count.multipliedReportingOverflow(by: d)
            guard !o else { throw bad("shape \(shape) has too many elements") }
            count = p
        }
        let (bytes, o) = count.multipliedReportingOverflow(by: dtype.size)
        guard !o, bytes == end - begin else {
            throw bad("shape \(shape) of \(dt) needs \(o ? "too many" : String(bytes)) bytes but data_offsets [\(begin), \(end)] hold \(end - begin)")
        }
        self.name = name; self.dtype = dtype; self.shape = shape; self.count = count
        self.begin = begin; self.end = end
    }

    /// A JSON number that is an integer in 0...2^53 (exact in a Double).
    static func integer(_ v: JSONValue) -> Int? {
        guard case .number(let x) = v, x >= 0, x <= 0x1p53, x == x.rounded(.towardZero) else { return nil }
        return Int(x)
    }

    static func describe(_ dims: [JSONValue]) -> String {
        (try? JSONValue.array(dims).serialized()) ?? "[...]"
    }
}
