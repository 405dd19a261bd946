/// The engine's version; include/rwcnn.h carries the same numbers as macros
/// and a test checks that they agree.
public enum RWCNNVersion {
    public static let major = 0
    public static let minor = 1
    public static let patch = 0
    public static var string: String { "\(major).\(minor).\(patch)" }
}
