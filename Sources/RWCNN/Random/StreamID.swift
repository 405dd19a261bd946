/// The stream number of a named tensor or purpose: the 64-bit FNV-1a hash of
/// the name's UTF-8 bytes (offset basis 0xcbf29ce484222325, prime
/// 0x100000001b3). Every binding can recompute it, and a layer's weights do
/// not depend on which other layers exist.
public func streamID(forName name: String) -> UInt64 {
    var h: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in name.utf8 {
        h ^= UInt64(byte)
        h = h &* 0x0000_0100_0000_01B3
    }
    return h
}
