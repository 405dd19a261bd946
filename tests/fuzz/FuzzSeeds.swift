// Seed corpora, made from the bundled files: the photos of data/images
// shrunk to 32 pixels and re-encoded (8- and 16-bit, gray, RGB, RGBA), the
// smallest bundled decoder, small model files and a checkpoint of each
// optimiser, architecture lines, and JSON from those files' headers.
#if canImport(Glibc)
import Glibc
#endif

func writeSeeds(to dir: String) throws {
    let repo = getenv("RWCNN_REPO").map { String(cString: $0) } ?? "."
    mkdir(dir, 0o755)
    for t in ["png", "jpeg", "model", "checkpoint", "arch", "json"] { mkdir(dir + "/" + t, 0o755) }
    func put(_ target: String, _ name: String, _ bytes: [UInt8]) throws {
        try writeFileAtomically(path: "\(dir)/\(target)/\(name)", bytes: bytes)
    }

    // PNG: each bundled photo at 32 pixels on the short side, in several layouts.
    let photos = try listImageFiles(in: repo + "/data/images")
    for (i, path) in photos.enumerated() {
        let rgb = try loadImageTensor(path: path, channels: 3)
        let scale = 32.0 / Double(min(rgb.shape[1], rgb.shape[2]))
        let small = try resizeBilinear(rgb, height: max(1, Int(Double(rgb.shape[1]) * scale)),
                                       width: max(1, Int(Double(rgb.shape[2]) * scale)))
        let layouts: [(Tensor, Int)] = [(small, 8), (small, 16), (try grayOf(small), 8), (try withAlpha(small), 8)]
        for (j, (t, depth)) in layouts.enumerated() {
            try put("png", "photo\(i)-\(j).png", PNG.encode(tensorToImage(t, bitDepth: depth)))
        }
    }

    // JPEG: the test suite's small JPEG files (baseline 4:2:0 and 4:4:4, gray,
    // progressive, restart markers).
    let jpegs = repo + "/Tests/RWCNNTests/Data/jpeg"
    for name in ["baseline420", "baseline444", "gray", "progressive", "restarts"] {
        if let bytes = try? readFile(path: "\(jpegs)/\(name).jpg") { try put("jpeg", name + ".jpg", bytes) }
    }

    // Model files: the smallest bundled decoder, and small models of each decoder mode.
    try put("model", "vgg16_seed0_pool1.safetensors", readFile(path: repo + "/data/decoders/vgg16_seed0_pool1.safetensors"))
    for (i, mode) in DecoderMode.allCases.enumerated() {
        let m = try Model(config: ModelConfig(arch: "4,M,8k5", cut: "conv2_1", seed: UInt64(i), decoder: mode))
        try put("model", "small-\(mode.rawValue).safetensors", m.fileContents().encode())
        if mode != .tied {
            try put("model", "small-\(mode.rawValue)-decoder-only.safetensors", m.fileContents(includeEncoder: false).encode())
        }
    }

    // Checkpoints of the model fuzzCheckpoint resumes into, after 0 and 2 updates.
    for kind in OptimizerKind.allCases {
        let m = try Model(config: ModelConfig(arch: "4,M,8", cut: "conv2_1", decoder: .trained))
        var o = Optimizer(kind: kind, learningRate: 1e-3, momentum: 0.9, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0)
        let path = "\(dir)/checkpoint/\(kind.rawValue)-0.safetensors"
        try Checkpoint.write(model: m, optimizer: o, step: 0, samples: 0, record: RunRecord(), path: path)
        var grads: [String: Tensor] = [:]
        for name in m.parameterNames where name.hasPrefix("decoder.") {
            let shape = try m.parameter(name).shape
            grads[name] = try Tensor(shape: shape, data: [Float](repeating: 0.01, count: shape.reduce(1, *)))
        }
        try o.step(m.parameterBlock, gradients: grads, threads: 1)
        try o.step(m.parameterBlock, gradients: grads, threads: 1)
        try Checkpoint.write(model: m, optimizer: o, step: 2, samples: 4, record: RunRecord(), path: "\(dir)/checkpoint/\(kind.rawValue)-2.safetensors")
    }

    // Architecture lines: spec, cut, width, kernel, mean, std, input side.
    let lines = ["vgg16\npool2\n0.125\n\n0\n\n32", "vgg19\nconv5_4\n0.0625\n3\n0\n0.01\n48",
                 "8,M,16k5,M3s2,32\nconv3_1\n1\n\n0.1\n0.5\n40", "64,M3,128k7\npool1\n0.5\n5\n0\n\n16",
                 "4 M 8\nconv2_1\n2\n1\n0\n1\n11"]
    for (i, l) in lines.enumerated() { try put("arch", "arch\(i).txt", Array(l.utf8)) }

    // JSON: the safetensors headers of the model seeds, and a few edge cases.
    let small = try Model(config: ModelConfig(arch: "4,M,8", cut: "conv2_1")).fileContents().encode()
    let n = Int(small[0]) | Int(small[1]) << 8 | Int(small[2]) << 16
    try put("json", "header.json", Array(small[8..<(8 + n)]))
    let texts = ["{\"a\":[1,2.5,-3e-7,true,false,null],\"b\":{\"c\":\"\\u00e9\\n\\\"x\\\"\"}}", "[]", "\"\\ud83d\\ude00\"",
                 "[[[[[[[[[[0]]]]]]]]]]", "-0.0", "1e308", "{\"\":\"\"}"]
    for (i, t) in texts.enumerated() { try put("json", "text\(i).json", Array(t.utf8)) }
}

private func grayOf(_ t: Tensor) throws -> Tensor {
    let plane = t.shape[1] * t.shape[2]
    return try Tensor(shape: [1, t.shape[1], t.shape[2]],
                      data: (0..<plane).map { (t.data[$0] + t.data[plane + $0] + t.data[2 * plane + $0]) / 3 })
}

private func withAlpha(_ t: Tensor) throws -> Tensor {
    let plane = t.shape[1] * t.shape[2]
    return try Tensor(shape: [4, t.shape[1], t.shape[2]], data: t.data + (0..<plane).map { Float($0 % 7) / 6 })
}
