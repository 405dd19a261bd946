// Every weight and bias of a model in one contiguous buffer: the encoder's
// parameters, then the decoder's, each by layer, weight before bias (the
// order of `Model.parameterNames`). The layout comes from the
// `Architecture` alone, so the typed layers hold their slots from the start
// and the kernels read a layer's weights in place (`ParameterView`). The
// decoder's parameters, the ones a training step updates, are one range:
// the optimiser walks that range and its moments, flat buffers of the same
// layout, in one pass. Names and shapes are the safetensors ones.

/// Read-only values with a shape, as the kernels take weights and biases:
/// a tensor, or a parameter in place in a model's block.
protocol WeightValues {
    var shape: [Int] { get }
    func withValues<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R
}

extension Tensor: WeightValues {
    func withValues<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try data.withUnsafeBufferPointer(body)
    }
}

/// A parameter of a layout by its place in `ParameterLayout.slots` (a
/// plain value, held by the typed layers).
struct ParameterID: Hashable {
    let index: Int
}

/// Where one named parameter lives in a `ParameterBlock`.
struct ParameterSlot: Hashable {
    let name: String
    let shape: [Int]
    let offset: Int
    let count: Int

    var range: Range<Int> { offset..<(offset + count) }
}

/// The names, shapes and places of a model's parameters.
struct ParameterLayout: Equatable {
    let slots: [ParameterSlot]
    /// Floats in the block.
    let count: Int
    /// The decoder's parameters (random or trained decoders; empty for tied).
    let decoderRange: Range<Int>
    /// The decoder's slots, in order (they follow the encoder's).
    let decoderSlots: ArraySlice<ParameterSlot>
    private let index: [String: Int]

    /// The parameters of `architecture` up to `cutIndex`: every conv's
    /// encoder weight [Cout, Cin, k, k] and bias [Cout], and, unless the
    /// decoder is tied, its mirror's weight (the same shape) and bias [Cin].
    init(architecture: Architecture, cutIndex: Int, decoder: DecoderMode) throws {
        let convs = architecture.layers[0...cutIndex].filter(\.isConv)
        var named: [(String, [Int])] = []
        for l in convs {
            named += [("encoder.\(l.name).weight", [l.outChannels, l.inChannels, l.kernel, l.kernel]),
                      ("encoder.\(l.name).bias", [l.outChannels])]
        }
        let encoderCount = named.count
        if decoder != .tied {
            for l in convs {
                named += [("decoder.\(l.name).weight", [l.outChannels, l.inChannels, l.kernel, l.kernel]),
                          ("decoder.\(l.name).bias", [l.inChannels])]
            }
        }
        var slots: [ParameterSlot] = [], offset = 0
        for (name, shape) in named {
            let n = try kernelElementCount(shape, what: "parameter \(name)")
            guard offset <= Int.max - n else { throw RWCNNError.argument("the model's parameters overflow") }
            slots.append(ParameterSlot(name: name, shape: shape, offset: offset, count: n))
            offset += n
        }
        self.slots = slots
        self.count = offset
        self.decoderSlots = slots[encoderCount...]
        self.decoderRange = (decoderSlots.first?.offset ?? offset)..<offset
        self.index = Dictionary(uniqueKeysWithValues: slots.enumerated().map { ($1.name, $0) })
    }

    func slot(_ name: String) -> ParameterSlot? { index[name].map { slots[$0] } }

    func id(_ name: String) -> ParameterID? { index[name].map(ParameterID.init) }

    /// Where `slot`'s values start in a flat buffer of the decoder's range
    /// alone (the optimiser's moments).
    func decoderOffset(_ slot: ParameterSlot) -> Int { slot.offset - decoderRange.lowerBound }
}

/// A model's parameter values in one allocation, made with the model and
/// kept for its life. Reading calls read it concurrently; writes (loading
/// weights, a training step) need exclusive use of the model, as before.
final class ParameterBlock: @unchecked Sendable {
    let layout: ParameterLayout
    let values: UnsafeMutableBufferPointer<Float>

    /// Zeros in every parameter (the caller draws the weights).
    init(layout: ParameterLayout) throws {
        try MemoryBudget.check(count: layout.count, size: MemoryLayout<Float>.stride, what: "the model's parameter block")
        self.layout = layout
        values = .allocate(capacity: max(layout.count, 1))
        values.initialize(repeating: 0)
    }

    deinit { values.deallocate() }

    /// The slot of `name`; `.internal` when the model has none.
    func slot(_ name: String) throws -> ParameterSlot {
        guard let s = layout.slot(name) else { throw RWCNNError.internal("missing parameter \(name)") }
        return s
    }

    /// The parameter in place (valid while the block lives and is not written).
    func view(_ id: ParameterID) -> ParameterView { ParameterView(block: self, slot: layout.slots[id.index]) }

    /// A copy of the parameter as a tensor.
    func tensor(_ slot: ParameterSlot) -> Tensor {
        Tensor(checkedShape: slot.shape, data: Array(values[slot.range]))
    }

    /// Whether the slot holds exactly `t`'s shape and values (no copy).
    func holds(_ t: Tensor, in slot: ParameterSlot) -> Bool {
        t.shape == slot.shape && t.data.withUnsafeBufferPointer { s in
            (0..<slot.count).allSatisfy { s[$0] == values[slot.offset + $0] }
        }
    }

    /// Writes `t` (of the slot's shape, checked by the caller) into the slot.
    func write(_ t: Tensor, to slot: ParameterSlot) {
        _ = UnsafeMutableBufferPointer(rebasing: values[slot.range]).update(fromContentsOf: t.data)
    }
}

/// One parameter read in place from its model's block.
struct ParameterView: WeightValues {
    let block: ParameterBlock
    let slot: ParameterSlot

    var shape: [Int] { slot.shape }

    func withValues<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(rebasing: block.values[slot.range]))
    }
}
