import CRWCNN
import RWCNN

// Front-end helpers of include/rwcnn.h: the CLI's resize-and-crop and its
// display rule, translated to caller buffers.

@_cdecl("rwcnn_image_resize_crop")
public func rwcnn_image_resize_crop(_ image: UnsafePointer<Float>?, _ c: Int, _ h: Int, _ w: Int, _ size: Int,
                                    _ out: UnsafeMutablePointer<Float>?, _ capacity: Int) -> Int32 {
    capi {
        let (shape, count) = try batchShape(1, c, h, w, what: "image")
        guard size >= 1, size <= 1 << 16 else { throw RWCNNError.argument("size must be in 1...65536, got \(size)") }
        let needed = try checkedProduct([c, size, size], what: "out")
        try checkCapacity(out, capacity, needed: needed, name: "out")
        let x = try tensor(from: image, shape: Array(shape.dropFirst()), count: count, name: "image")
        try checkFinite(x, what: "image")
        try copy(resizeAndCenterCrop(x, size: size), to: out, capacity: capacity, name: "out")
    }
}

@_cdecl("rwcnn_image_resize_crop_batch")
public func rwcnn_image_resize_crop_batch(_ images: UnsafePointer<Float>?, _ n: Int, _ c: Int, _ h: Int, _ w: Int,
                                          _ size: Int, _ out: UnsafeMutablePointer<Float>?, _ capacity: Int) -> Int32 {
    capi {
        let (shape, count) = try batchShape(n, c, h, w, what: "images")
        guard size >= 1, size <= 1 << 16 else { throw RWCNNError.argument("size must be in 1...65536, got \(size)") }
        let needed = try checkedProduct([n, c, size, size], what: "out")
        try checkCapacity(out, capacity, needed: needed, name: "out")
        try MemoryBudget.check(count: count, size: 2 * MemoryLayout<Float>.stride, what: "a copy of the images and their resize")
        let x = try tensor(from: images, shape: shape, count: count, name: "images")
        try checkFinite(x, what: "images")
        try copy(resizeAndCenterCrop(x, size: size), to: out, capacity: capacity, name: "out")
    }
}

@_cdecl("rwcnn_model_display")
public func rwcnn_model_display(_ p: OpaquePointer?, _ images: UnsafeMutablePointer<Float>?, _ n: Int, _ c: Int,
                                _ h: Int, _ w: Int) -> Int32 {
    capi {
        let model = try handle(p).model
        let (shape, count) = try batchShape(n, c, h, w, what: "images")
        let t = try tensor(from: images.map { UnsafePointer($0) }, shape: shape, count: count, name: "images")
        try copy(model.forDisplay(t), to: images, capacity: count, name: "images")
    }
}
