import RWCNN

/// A float32 tensor as a .npy file (format version 1.0: magic, header
/// length, a Python-literal header padded to 64 bytes, then little-endian
/// C-order data), which numpy.load reads.
func npyBytes(_ t: Tensor) -> [UInt8] {
    let shape = t.shape.count == 1 ? "(\(t.shape[0]),)" : "(" + t.shape.map(String.init).joined(separator: ", ") + ")"
    var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }"
    let unpadded = 10 + header.utf8.count + 1
    header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
    var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
    let n = header.utf8.count
    out += [UInt8(n & 0xFF), UInt8(n >> 8)] + Array(header.utf8)
    out.reserveCapacity(out.count + 4 * t.count)
    t.data.withUnsafeBufferPointer { values in
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { out += $0 } }
    }
    return out
}
