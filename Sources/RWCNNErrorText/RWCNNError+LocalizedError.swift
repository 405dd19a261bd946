// `localizedDescription` gives an RWCNNError's message (not "RWCNN.RWCNNError
// error 0"). In a module of its own, so that librwcnn.so, which links only
// the RWCNN target, carries no Foundation (it halves the library); the
// RWCNN product includes this target, and Foundation's
// `localizedDescription` finds the conformance at run time, with or without
// an import of this module.
#if canImport(FoundationEssentials)
import FoundationEssentials
#elseif canImport(Foundation)
import Foundation
#endif
import RWCNN

extension RWCNNError: LocalizedError {
    public var errorDescription: String? { message }
}
