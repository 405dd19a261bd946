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

    /// The first few skipped files with their reasons, for error messages
    /// ("" when none was skipped).
    public var skippedSummary: String {
        guard !skipped.isEmpty else { return "" }
        let shown = skipped.prefix(3).map { "\($0.path): \($0.reason)" }.joined(separator: "; ")
        return ": " + shown + (skipped.count > 3 ? "; and \(skipped.count - 3) more" : "")
    }

    /// Loads every path as RGB (gray replicated, alpha dropped: colour is kept as stored).
    /// If `shortSide` > 0 each image is resized so its shorter side has that
    /// length. Images smaller than `minSide` after that are skipped, as are
    /// files that fail to load; neither is an error here.
    public init(paths: [String], shortSide: Int, minSide: Int) {
        images = []; self.paths = []; skipped = []
        for path in paths {
            do {
                var t = try loadImageTensor(path: path, channels: 3)
                if shortSide > 0 {
                    let h = t.shape[1], w = t.shape[2]
                    let scale = Double(shortSide) / Double(min(h, w))
                    t = try resizeBilinear(t, height: max(1, Int((Double(h) * scale).rounded())),
                                           width: max(1, Int((Double(w) * scale).rounded())))
                }
                guard t.shape[1] >= minSide, t.shape[2] >= minSide else {
                    skipped.append((path, "image is \(t.shape[2])x\(t.shape[1]), smaller than the \(minSide)-pixel crop"))
                    continue
                }
                images.append(t)
                self.paths.append(path)
            } catch let e as RWCNNError {
                skipped.append((path, e.message))
            } catch {
                skipped.append((path, "\(error)"))
            }
        }
    }
}
