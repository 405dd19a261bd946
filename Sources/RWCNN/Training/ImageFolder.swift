#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The image files (*.png, *.jpg, *.jpeg, any case) under a folder, searched
/// recursively, as sorted paths (sorted so a seeded run sees the same files
/// in the same order anywhere).
public func listImageFiles(in folder: String) throws -> [String] {
    var found: [String] = []
    var pending = [folder]
    var visited = 0
    while let dir = pending.popLast() {
        guard let handle = opendir(dir) else {
            throw RWCNNError.io("cannot read folder \(dir): \(String(cString: strerror(errno)))")
        }
        defer { closedir(handle) }
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name == "." || name == ".." || name.hasPrefix(".") { continue }
            let path = dir.hasSuffix("/") ? dir + name : dir + "/" + name
            var st = stat()
            guard stat(path, &st) == 0 else { continue }
            if (st.st_mode & S_IFMT) == S_IFDIR {
                visited += 1
                guard visited < 100_000 else { throw RWCNNError.argument("folder \(folder) has too many subfolders") }
                pending.append(path)
            } else if ImageFile.hasImageExtension(name) {
                found.append(path)
            }
        }
    }
    return found.sorted()
}

@available(*, deprecated, renamed: "listImageFiles(in:)")
public func listPNGFiles(in folder: String) throws -> [String] { try listImageFiles(in: folder) }

/// RGB images loaded into memory for training or evaluation.
public struct ImageSet: Sendable {
    /// One [3, H, W] tensor per usable file, in `paths` order.
    public var images: [Tensor]
    public var paths: [String]
    /// Files that could not be used, with the reason.
    public var skipped: [(path: String, reason: String)]

    /// Loads every path as RGB (gray replicated, alpha composited on black).
    /// If `shortSide` > 0 each image is resized so its shorter side has that
    /// length. Images smaller than `minSide` after that are skipped, as are
    /// files that fail to load (FIFOs, devices and folders included); neither
    /// is an error here. Memory is the exception: a resize target or a set
    /// larger than the `MemoryBudget` throws `.outOfMemory` (checked before
    /// the allocation), since skipping files for memory would silently change
    /// what a run sees.
    public init(paths: [String], shortSide: Int, minSide: Int) throws {
        images = []; self.paths = []; skipped = []
        var total = 0
        for path in paths {
            do {
                var t = try loadImageTensor(path: path, channels: 3)
                if shortSide > 0 {
                    let h = t.shape[1], w = t.shape[2]
                    let scale = Double(shortSide) / Double(min(h, w))
                    let newH = try resizedSide(h, scale: scale, path: path), newW = try resizedSide(w, scale: scale, path: path)
                    try MemoryBudget.check(count: try checkedProduct([3, newH, newW], what: "\(path) resized"), size: 4,
                                           what: "\(path): resizing \(w)x\(h) to \(newW)x\(newH)")
                    t = try resizeBilinear(t, height: newH, width: newW)
                }
                guard t.shape[1] >= minSide, t.shape[2] >= minSide else {
                    skipped.append((path, "image is \(t.shape[2])x\(t.shape[1]), smaller than the \(minSide)-pixel crop"))
                    continue
                }
                total += t.count
                try MemoryBudget.check(count: total, size: 4, what: "the \(images.count + 1) images loaded up to \(path)")
                images.append(t)
                self.paths.append(path)
            } catch let e as RWCNNError {
                if case .outOfMemory = e { throw e }
                skipped.append((path, e.message))
            } catch {
                skipped.append((path, "\(error)"))
            }
        }
    }
}

/// One side after scaling, refused (`.outOfMemory`) beyond Int range.
private func resizedSide(_ side: Int, scale: Double, path: String) throws -> Int {
    let v = (Double(side) * scale).rounded()
    guard v.isFinite, v < 0x1p62 else {
        throw RWCNNError.outOfMemory("\(path): resizing a side of \(side) by \(scale) gives \(v) pixels")
    }
    return max(1, Int(v))
}
