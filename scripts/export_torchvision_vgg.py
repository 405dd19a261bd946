#!/usr/bin/env python3
"""Export torchvision's pretrained VGG16/VGG19 convolution weights to a
safetensors file that rwcnn reads (`Model.loadTorchvisionEncoder`, C
`rwcnn_model_load_torchvision`, CLI `--pretrained`).

Needs torch, torchvision and safetensors (optional; rwcnn's tests do not).
The weights come from torchvision's own download cache, so the machine must
be able to fetch them once (or have them cached already).

    python3 scripts/export_torchvision_vgg.py vgg16 vgg16_features.safetensors

Tensors are named as in torchvision (`features.<i>.weight`, `.bias`), float32.
"""
import argparse
import sys


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("arch", choices=["vgg16", "vgg19"])
    parser.add_argument("output")
    args = parser.parse_args()
    try:
        import torchvision
        from safetensors.torch import save_file
    except ImportError as e:  # optional dependency
        print(f"needs torch, torchvision and safetensors: {e}", file=sys.stderr)
        return 1
    weights = {"vgg16": torchvision.models.VGG16_Weights.IMAGENET1K_V1,
               "vgg19": torchvision.models.VGG19_Weights.IMAGENET1K_V1}[args.arch]
    model = getattr(torchvision.models, args.arch)(weights=weights)
    tensors = {f"features.{k}": v.detach().float().contiguous()
               for k, v in model.features.state_dict().items()}
    save_file(tensors, args.output, metadata={"source": f"torchvision {args.arch} {weights}"})
    print(f"wrote {len(tensors)} tensors to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
