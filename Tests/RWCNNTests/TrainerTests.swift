import Foundation
import XCTest
import RWCNN

final class TrainerTests: XCTestCase {
    private func smallModel(seed: UInt64 = 1) throws -> Model {
        try Model(config: ModelConfig(arch: "16,M,32", cut: "pool1", seed: seed, decoder: .trained))
    }

    private func options(steps: Int) -> TrainOptions {
        var o = TrainOptions()
        o.dataFolder = bundledImages
        o.steps = steps
        o.batchSize = 4
        o.crop = 32
        o.shortSide = 64
        o.learningRate = 3e-3
        o.evalEvery = 0
        o.checkpointEvery = 0
        o.dataSeed = 7
        return o
    }

    func testShortRunLowersHeldOutMSE() throws {
        let before = try smallModel().train(options: options(steps: 0))
        var losses: [Double] = []
        let after = try smallModel().train(options: options(steps: 60)) { p in
            if p.kind == .step { losses.append(p.loss) }
            return .proceed
        }
        XCTAssertEqual(losses.count, 60)
        XCTAssertGreaterThan(after.trainImages, 5)
        XCTAssertGreaterThan(after.evalImages, 0)
        print("held-out MSE \(before.eval!.mse) -> \(after.eval!.mse), PSNR \(before.eval!.psnr) -> \(after.eval!.psnr)")
        XCTAssertLessThan(after.eval!.mse, before.eval!.mse * 0.8)
        XCTAssertLessThan(losses.suffix(10).reduce(0, +), losses.prefix(10).reduce(0, +))
    }

    func testResumedRunEqualsUninterruptedRun() throws {
        Threads.set(1)
        defer { Threads.set(2) }
        var full: [Double] = []
        try smallModel().train(options: options(steps: 6)) { p in
            if p.kind == .step { full.append(p.loss) }
            return .proceed
        }
        let checkpoint = temporaryPath("ckpt.safetensors")
        var first = options(steps: 3)
        first.checkpointPath = checkpoint
        var resumed: [Double] = []
        try smallModel().train(options: first) { p in
            if p.kind == .step { resumed.append(p.loss) }
            return .proceed
        }
        var second = options(steps: 6)
        second.checkpointPath = checkpoint
        second.resume = true
        let model = try smallModel()
        try model.train(options: second) { p in
            if p.kind == .step { resumed.append(p.loss) }
            return .proceed
        }
        XCTAssertEqual(resumed, full)
        XCTAssertEqual(model.config.decoder, .trained)
    }

    func testCancelKeepsALoadableCheckpoint() throws {
        var o = options(steps: 50)
        o.checkpointPath = temporaryPath("cancel.safetensors")
        let model = try smallModel()
        XCTAssertThrowsError(try model.train(options: o) { p in p.step >= 2 ? .cancel : .proceed }) { e in
            guard case RWCNNError.cancelled = e else { return XCTFail("\(e)") }
        }
        let back = try Model.load(path: o.checkpointPath!)
        XCTAssertEqual(back.parameters, model.parameters)
        XCTAssertEqual(back.config.decoder, .trained)
    }

    func testCorruptCheckpointAndBadSettingsAreClearErrors() throws {
        let path = temporaryPath("corrupt.safetensors")
        try Data([8, 0, 0, 0, 0, 0, 0, 0, 123, 34]).write(to: URL(fileURLWithPath: path))
        var o = options(steps: 2)
        o.checkpointPath = path
        o.resume = true
        XCTAssertThrowsError(try smallModel().train(options: o)) { e in
            guard case RWCNNError.format = e else { return XCTFail("\(e)") }
        }
        // A checkpoint of another model.
        try smallModel(seed: 2).save(path: path)
        XCTAssertThrowsError(try smallModel().train(options: o)) { e in
            guard case RWCNNError.argument = e else { return XCTFail("\(e)") }
        }
        var missing = options(steps: 2)
        missing.dataFolder = "/nonexistent/folder"
        XCTAssertThrowsError(try smallModel().train(options: missing)) { e in
            guard case RWCNNError.io = e else { return XCTFail("\(e)") }
        }
        let tied = try Model(config: ModelConfig(arch: "4,M", cut: "pool1", decoder: .tied))
        XCTAssertThrowsError(try tied.train(options: options(steps: 1)))
        var bad = options(steps: 1)
        bad.batchSize = 0
        XCTAssertThrowsError(try smallModel().train(options: bad))
    }

    func testUnreadableFilesAreReportedAndSkipped() throws {
        let folder = temporaryPath("data")
        try FileManager.default.createDirectory(atPath: folder + "/sub", withIntermediateDirectories: true)
        for name in ["camera.png", "chelsea.png", "horse.png"] {
            try FileManager.default.copyItem(atPath: bundledImages + "/" + name, toPath: folder + "/sub/" + name)
        }
        try Data("not a png".utf8).write(to: URL(fileURLWithPath: folder + "/broken.png"))
        // An explicit held-out folder, so the seeded split cannot hold out only the broken file.
        let held = temporaryPath("held")
        try FileManager.default.createDirectory(atPath: held, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: bundledImages + "/coffee.png", toPath: held + "/coffee.png")
        var o = options(steps: 2)
        o.dataFolder = folder
        o.evalFolder = held
        var warnings: [String] = []
        let r = try smallModel().train(options: o) { p in
            if p.kind == .warning { warnings.append(p.message) }
            return .proceed
        }
        XCTAssertEqual(warnings.count, 1)
        XCTAssertTrue(warnings[0].contains("broken.png"), warnings[0])
        XCTAssertEqual(r.trainImages, 3)
        XCTAssertEqual(r.evalImages, 1)

        let empty = temporaryPath("empty")
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        try Data("x".utf8).write(to: URL(fileURLWithPath: empty + "/a.png"))
        try Data("y".utf8).write(to: URL(fileURLWithPath: empty + "/b.png"))
        o.dataFolder = empty
        o.evalFolder = nil
        XCTAssertThrowsError(try smallModel().train(options: o)) { e in
            guard case RWCNNError.argument(let m) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(m.contains("no usable"), m)
        }
    }
}
