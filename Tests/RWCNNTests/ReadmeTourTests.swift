import XCTest
import RWCNN

/// The README's Swift tour, as written there (paths made absolute), so the
/// README keeps compiling and running.
final class ReadmeTourTests: XCTestCase {
    func testSwiftTourRuns() throws {
        let out = temporaryPath("out.png")
        let image = try loadImageTensor(path: bundledImages + "/astronaut.png")
        let model = try Model(config: ModelConfig(arch: "vgg16", cut: "pool2", seed: 0, decoder: .tied))
        let reconstruction = try displayNormalize(model.reconstruct(image)).item(0)
        print(try Metrics.psnr(reconstruction, image), try Metrics.ssim(reconstruction, image))
        try saveImageTensor(reconstruction, path: out)

        XCTAssertEqual(try loadImageTensor(path: out).shape, image.shape)
        XCTAssertGreaterThan(try Metrics.ssim(reconstruction, image), 0.1)
    }
}
