/// Fixed evaluation crops: the centre crop x crop of each image (or the
/// whole image resized to crop x crop), stacked as [N, 3, crop, crop].
func evaluationCrops(_ images: [Tensor], crop: Int, resizeWhole: Bool) throws -> Tensor {
    try Tensor.stack(images.map {
        resizeWhole ? try resizeBilinear($0, height: crop, width: crop) : try centerCrop($0, height: crop, width: crop)
    })
}

extension Model {
    /// Reconstruction quality on a batch of images [N, C, H, W], in chunks of
    /// `batchSize`. Outputs are mapped to [0, 1] by `rule` first (default:
    /// the model's `displayRule`, clamping for a trained decoder and display
    /// normalisation for random and tied ones, whose scale is arbitrary).
    public func evaluate(_ images: Tensor, batchSize: Int = 8, rule: DisplayRule? = nil) throws -> EvalMetrics {
        let rule = rule ?? displayRule
        let all = try batched(images)
        let n = all.shape[0]
        var mse = 0.0, psnr = 0.0, ssim = 0.0
        var start = 0
        while start < n {
            let count = min(batchSize, n - start)
            let chunk = try Tensor.stack((start..<(start + count)).map { try all.item($0) })
            var out = try reconstruct(chunk)
            out = rule.apply(out)
            for j in 0..<count {
                let a = try out.item(j), b = try chunk.item(j)
                mse += try Metrics.mse(a, b)
                psnr += try Metrics.psnr(a, b)
                ssim += try Metrics.ssim(a, b)
            }
            start += count
        }
        let d = Double(n)
        return EvalMetrics(mse: mse / d, psnr: psnr / d, ssim: ssim / d, images: n)
    }
}
