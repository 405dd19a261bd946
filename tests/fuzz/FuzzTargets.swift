// The fuzz targets. Each takes arbitrary bytes; any error thrown is fine
// (that is the contract), a crash, leak, hang or huge allocation is a finding.
#if canImport(Glibc)
import Glibc
#endif

/// PNG from memory: header query, then a full decode as 3 channels.
func fuzzPNG(_ bytes: UnsafeRawBufferPointer) {
    _ = try? PNG.header(bytes: bytes)
    if let image = try? PNG.read(bytes: bytes, maxPixels: 1 << 20) {
        _ = try? imageToTensor(image, channels: 3)
    }
}

/// JPEG from memory: header query, then a full decode as 3 channels.
func fuzzJPEG(_ bytes: UnsafeRawBufferPointer) {
    _ = try? JPEG.header(bytes: bytes)
    if let image = try? JPEG.read(bytes: bytes, maxPixels: 1 << 20) {
        _ = try? imageToTensor(image, channels: 3)
    }
}

/// A model file from memory: safetensors decode, then every check and (if
/// they pass) the model itself.
func fuzzModelFile(_ bytes: UnsafeRawBufferPointer) {
    guard let file = try? SafetensorsFile.decode(bytes: Array(bytes)) else { return }
    _ = try? Model(file: file, source: "fuzz")
}

/// A checkpoint resumed into a small trained-decoder model: the bytes go
/// through a file, as in training.
private let checkpointPath = "/tmp/rwcnn-fuzz-checkpoint-\(getpid()).safetensors"
private let checkpointModel = try! Model(config: ModelConfig(arch: "4,M,8", cut: "conv2_1", decoder: .trained))

func fuzzCheckpoint(_ bytes: UnsafeRawBufferPointer) {
    // A plain write: no fsync or folder scan per input.
    guard let f = fopen(checkpointPath, "wb") else { return }
    if bytes.count > 0 { _ = fwrite(bytes.baseAddress!, 1, bytes.count, f) }
    fclose(f)
    defer { unlink(checkpointPath) }
    var optimizer = Optimizer(kind: .adam, learningRate: 1e-3, momentum: 0.9, beta1: 0.9, beta2: 0.999,
                              epsilon: 1e-8, weightDecay: 0)
    let saved = checkpointModel.parameters
    _ = try? Checkpoint.restore(path: checkpointPath, model: checkpointModel, optimizer: &optimizer,
                                steps: 100, batchSize: 2, record: RunRecord())
    try? checkpointModel.setParameters(saved)
    checkpointModel.encoderIsSeeded = true  // the seed's draw again
}

/// An architecture spec, a cut and a config, one per line: spec, cut,
/// width, kernel size, mean, std, then an input size. Builds the
/// architecture, finds the cut, computes shapes, validates the weight init
/// and (when small) builds the model.
func fuzzArchitecture(_ bytes: UnsafeRawBufferPointer) {
    let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    func line(_ i: Int) -> String { i < lines.count ? lines[i] : "" }
    let width = Double(line(2)) ?? 1
    let kernel = Int(line(3))
    guard let arch = try? Architecture(spec: line(0), width: width, kernelSize: kernel) else { return }
    let side = Int(line(6)) ?? 32
    _ = try? arch.shapes(height: side, width: side)
    guard let cut = try? arch.index(of: line(1)) else { return }
    _ = try? arch.featureShape(at: line(1), height: side, width: side)
    var config = ModelConfig(arch: line(0), cut: line(1), width: width, kernelSize: kernel)
    config.weightInit = WeightInit(distribution: .normal, scale: Double(line(5)).map { .fixed(std: $0) } ?? .he,
                                   mean: Double(line(4)) ?? 0)
    guard (try? config.weightInit.validate()) != nil else { return }
    let parameters = arch.layers[0...cut].reduce(0) { $0 + $1.parameterCount }
    if parameters < 200_000, let model = try? Model(config: config), side <= 64 {
        _ = try? model.reconstruct(Tensor(zeros: [1, 3, side, side]))
    }
}

/// JSON: parse, serialise, parse again; the two values must be equal.
func fuzzJSON(_ bytes: UnsafeRawBufferPointer) {
    guard let value = try? JSONValue.parse(bytes), let text = try? value.serialized() else { return }
    guard let again = try? JSONValue.parse(Array(text.utf8)) else {
        fatalError("serialized JSON does not parse: \(text)")
    }
    if again != value { fatalError("JSON round trip changed the value: \(text)") }
}
