"""YOLOv3-SPP, AlphaPose's default person detector, and a loader for darknet `.weights` files.

Redmon, Farhadi (2018): YOLOv3: An Incremental Improvement, arXiv:1804.02767 (Darknet-53, three
detection scales); the spatial pyramid pooling block: He, Zhang, Ren, Sun (2015), Spatial Pyramid
Pooling in Deep Convolutional Networks for Visual Recognition, TPAMI, as darknet's
cfg/yolov3-spp.cfg uses it (max pools of 5, 9 and 13 at stride 1, concatenated).

Written for this project from the paper and from reading upstream's detector/yolo/darknet.py,
util.py and cfg/yolov3-spp.cfg (MVIG-SJTU/AlphaPose, itself from ayooshkathuria/pytorch-yolo-v3;
AlphaPose's code is licensed for non-commercial use only) so that darknet's weights file loads:
the convolutions are created below in the order of the cfg file's [convolutional] sections, which
is the order their values follow one another in the file.

For an input of (batch, 3, S, S), S a multiple of 32 (608 in AlphaPose), RGB in [0, 1]:

- `backbone`, Darknet-53: a 3x3 convolution (32), then five stages, each a 3x3/2 convolution
  and 1, 2, 8, 8, 4 residual blocks (1x1 to half the channels, 3x3 back, added to the input) of
  64, 128, 256, 512, 1024 channels -> features at S/8 (256), S/16 (512) and S/32 (1024);
- stride 32: 1x1 (512), 3x3 (1024), 1x1 (512), SPP (x4 channels: 2048), 1x1 (512), 3x3 (1024),
  1x1 (512) -> the branch point; 3x3 (1024) and a 1x1 with bias to A x (5 + C) channels;
- stride 16: a 1x1 (256) on the stride-32 branch point, nearest x2 upsampling, concatenated with
  the S/16 backbone feature (768), then 1x1/3x3 alternating (256, 512, 256, 512, 256) -> branch
  point; 3x3 (512) and the 1x1 output;
- stride 8: the same from the stride-16 branch point (128, upsampled, with the S/8 feature: 384).

Every convolution but the three outputs has batch norm (no bias) and leaky ReLU (slope 0.1).

`forward` returns the three raw outputs, (batch, A x (5 + C), S/32, S/32), (..., S/16, S/16),
(..., S/8, S/8), each anchor's 5 + C values (tx, ty, tw, th, objectness, class logits) in
consecutive channels; services/pose2d/alphapose/detector.py decodes them.

One departure from darknet is kept on purpose: upstream's stride-1 max pools (MaxPoolStride1) pad
with zeros, darknet's own with -infinity; the two differ only where a whole pooling window at the
border is negative. We pad with zeros, as AlphaPose runs it.

Darknet weights files: a header of three int32 (major, minor, revision) and the number of images
seen in training (int64 from version 0.2 on, int32 before), then float32 values, for each
convolution in cfg order: with batch norm its bias, gain, running mean and running variance, else
the convolution's bias; then the convolution's weights (out, in, k, k).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

# anchors (width, height) in input pixels, and the three used by each output (cfg [yolo] mask)
ANCHORS = ((10, 13), (16, 30), (33, 23), (30, 61), (62, 45), (59, 119), (116, 90), (156, 198), (373, 326))
ANCHOR_MASKS = ((6, 7, 8), (3, 4, 5), (0, 1, 2))        # the outputs at stride 32, 16, 8
NUM_CLASSES = 80                                        # COCO; class 0 is "person"
SPP_KERNELS = (5, 9, 13)
LEAKY_SLOPE = 0.1


class DarknetWeightsError(ValueError):
    """A darknet weights file that does not fit the network; the message says why."""


class ConvBlock(nn.Module):
    """Darknet's [convolutional]: a k x k convolution ("same" padding), then batch norm and leaky
    ReLU (0.1), or, without batch norm, a convolution with bias and no activation (the outputs)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 batch_norm: bool = True) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride, (kernel_size - 1) // 2,
                              bias=not batch_norm)
        self.bn = nn.BatchNorm2d(out_channels) if batch_norm else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        if self.bn is None:
            return x
        return F.leaky_relu(self.bn(x), LEAKY_SLOPE, inplace=True)


class Residual(nn.Module):
    """Darknet-53's residual block: 1x1 to channels / 2, 3x3 back to channels, plus the input."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.reduce = ConvBlock(channels, channels // 2, 1)
        self.expand = ConvBlock(channels // 2, channels, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.expand(self.reduce(x))


class Darknet53(nn.Module):
    """The backbone: a 3x3 convolution and five stages (a 3x3/2 convolution, then residual blocks)."""

    STAGES = ((64, 1), (128, 2), (256, 8), (512, 8), (1024, 4))     # (channels, residual blocks)

    def __init__(self) -> None:
        super().__init__()
        self.stem = ConvBlock(3, 32, 3)
        channels, stages = 32, []
        for width, blocks in self.STAGES:
            stages.append(nn.Sequential(ConvBlock(channels, width, 3, stride=2), *(Residual(width) for _ in range(blocks))))
            channels = width
        self.stages = nn.ModuleList(stages)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x = self.stem(x)                                   # (batch, 32, S, S)
        features = []
        for stage in self.stages:
            x = stage(x)                                   # S/2 ... S/32
            features.append(x)
        return features[2], features[3], features[4]       # (batch, 256, S/8), (512, S/16), (1024, S/32)


class SPP(nn.Module):
    """Spatial pyramid pooling as yolov3-spp.cfg: stride-1 max pools (zero padded, as upstream's
    MaxPoolStride1), concatenated largest first with the input: 4 x channels out."""

    def __init__(self, kernels: tuple[int, ...] = SPP_KERNELS) -> None:
        super().__init__()
        self.kernels = kernels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = [F.max_pool2d(F.pad(x, (k // 2,) * 4), k, stride=1) for k in reversed(self.kernels)]
        return torch.cat([*pooled, x], dim=1)


def _alternating(in_channels: int, channels: int, count: int) -> list[ConvBlock]:
    """`count` convolutions alternating 1x1 to `channels` and 3x3 to 2 x `channels`, from `in_channels`."""
    layers = []
    for i in range(count):
        layers.append(ConvBlock(in_channels, channels, 1) if i % 2 == 0 else ConvBlock(channels, 2 * channels, 3))
        in_channels = layers[-1].conv.out_channels
    return layers


class YOLOv3SPP(nn.Module):
    """YOLOv3 with spatial pyramid pooling (Redmon & Farhadi 2018, arXiv:1804.02767; darknet's
    cfg/yolov3-spp.cfg), AlphaPose's default person detector.

    Parameters
    ----------
    num_classes
        Classes predicted per anchor (80 for the COCO-trained weights; class 0 is "person").
    anchors_per_scale
        Anchors per output cell (3 in the cfg).
    """

    def __init__(self, num_classes: int = NUM_CLASSES, anchors_per_scale: int = 3) -> None:
        super().__init__()
        self.num_classes, self.anchors_per_scale = num_classes, anchors_per_scale
        out = anchors_per_scale * (5 + num_classes)
        # created in the cfg file's order (its layer numbers in brackets): the weights file follows it
        self.backbone = Darknet53()                                                       # [0-74]
        self.pre_spp = nn.Sequential(*_alternating(1024, 512, 3))                         # [75-77]
        self.spp = SPP()                                                                  # [78-83]
        self.post_spp = nn.Sequential(*_alternating(2048, 512, 3))                        # [84-86]
        self.out32 = nn.Sequential(ConvBlock(512, 1024, 3), ConvBlock(1024, out, 1, batch_norm=False))  # [87-89]
        self.lateral16 = ConvBlock(512, 256, 1)                                           # [90-93]
        self.neck16 = nn.Sequential(*_alternating(256 + 512, 256, 5))                     # [94-98]
        self.out16 = nn.Sequential(ConvBlock(256, 512, 3), ConvBlock(512, out, 1, batch_norm=False))    # [99-101]
        self.lateral8 = ConvBlock(256, 128, 1)                                            # [102-105]
        self.neck8 = nn.Sequential(*_alternating(128 + 256, 128, 5))                      # [106-110]
        self.out8 = nn.Sequential(ConvBlock(128, 256, 3), ConvBlock(256, out, 1, batch_norm=False))     # [111-113]

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(batch, 3, S, S) RGB in [0, 1], S a multiple of 32 -> the raw outputs at strides 32, 16, 8:
        (batch, A x (5 + C), S/32, S/32), (..., S/16, S/16), (..., S/8, S/8)."""
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"YOLOv3-SPP takes (batch, 3, height, width) images, got shape {tuple(x.shape)}")
        if x.shape[2] % 32 or x.shape[3] % 32:
            raise ValueError(f"YOLOv3-SPP's input height and width must be multiples of 32, got {tuple(x.shape[2:])}")
        c8, c16, c32 = self.backbone(x)
        branch32 = self.post_spp(self.spp(self.pre_spp(c32)))                 # (batch, 512, S/32, S/32)
        up = F.interpolate(self.lateral16(branch32), scale_factor=2, mode="nearest")
        branch16 = self.neck16(torch.cat([up, c16], dim=1))                   # (batch, 256, S/16, S/16)
        up = F.interpolate(self.lateral8(branch16), scale_factor=2, mode="nearest")
        branch8 = self.neck8(torch.cat([up, c8], dim=1))                      # (batch, 128, S/8, S/8)
        return self.out32(branch32), self.out16(branch16), self.out8(branch8)

    def conv_blocks(self) -> list[ConvBlock]:
        """The convolutions in darknet's order (the cfg's, and the weights file's)."""
        return [m for m in self.modules() if isinstance(m, ConvBlock)]


def darknet_layout(model: YOLOv3SPP) -> list[tuple[int, int, int, int, bool]]:
    """(in channels, out channels, kernel, stride, batch norm) of each convolution, in file order."""
    return [(b.conv.in_channels, b.conv.out_channels, b.conv.kernel_size[0], b.conv.stride[0], b.bn is not None)
            for b in model.conv_blocks()]


def darknet_value_count(model: YOLOv3SPP) -> int:
    """The float32 values a weights file for `model` holds after its header."""
    return sum(out * (4 if bn else 1) + out * cin * k * k for cin, out, k, _, bn in darknet_layout(model))


def read_darknet_weights(path: Path) -> tuple[tuple[int, int, int, int], np.ndarray]:
    """A darknet weights file -> its header (major, minor, revision, seen) and its float32 values."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"darknet weights {path} does not exist")
    data = path.read_bytes()
    if len(data) < 16:
        raise DarknetWeightsError(f"{path} is not a darknet weights file ({len(data)} bytes, shorter than a header)")
    major, minor, revision = (int(v) for v in np.frombuffer(data, "<i4", 3))
    wide = (major * 10 + minor) >= 2 and major < 1000 and minor < 1000     # darknet's parser: `seen` is 64-bit
    seen_end = 20 if wide else 16
    seen = int(np.frombuffer(data, "<i8" if wide else "<i4", 1, 12)[0]) if len(data) >= seen_end else 0
    body = len(data) - seen_end
    if body < 0 or body % 4:
        raise DarknetWeightsError(f"{path} is not a darknet weights file: {len(data)} bytes is not a "
                                  f"{seen_end}-byte header (version {major}.{minor}.{revision}) and float32 values")
    return (major, minor, revision, seen), np.frombuffer(data, "<f4", offset=seen_end)


def load_darknet_weights(model: YOLOv3SPP, path: Path) -> YOLOv3SPP:
    """Load a darknet weights file into `model`, in cfg order. The file must hold exactly the values
    the network needs; otherwise DarknetWeightsError, with nothing loaded."""
    header, values = read_darknet_weights(path)
    needed = darknet_value_count(model)
    if len(values) != needed:
        raise DarknetWeightsError(
            f"{path} does not fit YOLOv3-SPP ({model.num_classes} classes): it holds {len(values)} float32 values "
            f"after its header (version {'.'.join(map(str, header[:3]))}), the network needs {needed} "
            f"({'too few' if len(values) < needed else 'too many'}: a different cfg, or a truncated file)")
    offset = 0

    def take(target: torch.Tensor) -> None:
        nonlocal offset
        count = target.numel()
        target.copy_(torch.from_numpy(values[offset:offset + count].copy()).view_as(target))
        offset += count

    with torch.no_grad():
        for block in model.conv_blocks():
            if block.bn is not None:
                for target in (block.bn.bias, block.bn.weight, block.bn.running_mean, block.bn.running_var):
                    take(target)
            else:
                take(block.conv.bias)
            take(block.conv.weight)
    return model


def write_darknet_weights(values: np.ndarray, path: Path, header: tuple[int, int, int, int] = (0, 2, 0, 0)) -> None:
    """Write float32 values (in file order) as a darknet weights file of version `header` (0.2.0: 64-bit `seen`)."""
    major, minor, revision, seen = header
    wide = (major * 10 + minor) >= 2 and major < 1000 and minor < 1000
    with open(path, "wb") as out:
        out.write(np.array([major, minor, revision], "<i4").tobytes())
        out.write(np.array([seen], "<i8" if wide else "<i4").tobytes())
        out.write(np.ascontiguousarray(values, dtype="<f4").tobytes())


def load_yolo(path: Path, num_classes: int = NUM_CLASSES) -> YOLOv3SPP:
    """YOLOv3-SPP with the darknet weights file at `path`, in eval mode."""
    return load_darknet_weights(YOLOv3SPP(num_classes), path).eval()
