"""FastPose, AlphaPose's single-person pose network: an SE-ResNet backbone, pixel-shuffle (DUC)
upsampling and a 3x3 convolution to one heatmap per joint.

Fang, Li, Tang, Xie, Xiu, Zhu, Lu (2022): AlphaPose: Whole-Body Regional Multi-Person Pose
Estimation and Tracking in Real-Time. IEEE TPAMI, arXiv:2211.03375 (section 3: "FastPose"); the
SE block: Hu, Shen, Sun (2018), Squeeze-and-Excitation Networks, CVPR; the dense upsampling
convolution (DUC): Wang et al. (2018), Understanding Convolution for Semantic Segmentation, WACV;
the residual network: He et al. (2016), CVPR.

Written for this project from the paper and from reading upstream's alphapose/models/fastpose.py,
layers/SE_Resnet.py, layers/SE_module.py and layers/DUC.py (MVIG-SJTU/AlphaPose; its code and
weights are licensed for non-commercial use only) so that the official checkpoints load with
`strict=True`: the module and parameter names below are the names of the checkpoints' state dicts.

For an input of (batch, 3, H, W) with H, W multiples of 32 (256 x 192 for the released models):

- `preact`, the SE-ResNet: a 7x7/2 convolution and 3x3/2 max-pool, then four stages of
  bottleneck blocks (3, 4, 6, 3 of them for NUM_LAYERS=50) of 64, 128, 256, 512 planes (x4 out),
  stages 2-4 halving the resolution; the first block of each stage (the one with a projection
  shortcut) has a squeeze-and-excitation layer (no channel reduction) -> (batch, 2048, H/32, W/32);
- `suffle1`: pixel shuffle x2 -> (batch, 512, H/16, W/16);
- `duc1`, `duc2`: 3x3 convolution, batch norm, ReLU, pixel shuffle x2 each
  -> (batch, 256, H/8, W/8) -> (batch, CONV_DIM, H/4, W/4);
- `conv_out`: 3x3 convolution -> (batch, NUM_JOINTS, H/4, W/4) heatmaps.

Upstream's `NUM_DECONV_FILTERS` config entry is not used by FastPose (it sizes SimplePose's
deconvolutions), so it is not a parameter here.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

# Bottleneck blocks per stage for the depths FastPose can be built with: its first DUC takes the
# 2048 channels only bottleneck stages give (upstream's SEResnet also lists resnet18, with basic
# blocks, which FastPose's DUC layers do not fit).
STAGE_BLOCKS = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}
EXPANSION = 4


class SELayer(nn.Module):
    """Squeeze-and-excitation (Hu et al. 2018): channel weights from the global average,
    through two linear layers (ReLU, sigmoid) with `channels // reduction` hidden units."""

    def __init__(self, channels: int, reduction: int = 1) -> None:
        super().__init__()
        self.fc = nn.Sequential(nn.Linear(channels, channels // reduction), nn.ReLU(inplace=True),
                                nn.Linear(channels // reduction, channels), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weights = self.fc(x.mean(dim=(2, 3)))                      # (batch, channels)
        return x * weights[:, :, None, None]


class Bottleneck(nn.Module):
    """ResNet bottleneck: 1x1 (planes), 3x3 (planes, `stride`), 1x1 (planes * 4), each with batch
    norm; an optional SE layer on the residual branch; a projection shortcut when given."""

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None,
                 squeeze_excite: bool = False) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * EXPANSION, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * EXPANSION)
        self.se = SELayer(planes * EXPANSION) if squeeze_excite else None
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)), inplace=True)
        out = F.relu(self.bn2(self.conv2(out)), inplace=True)
        out = self.bn3(self.conv3(out))
        if self.se is not None:
            out = self.se(out)
        shortcut = x if self.downsample is None else self.downsample(x)
        return F.relu(out + shortcut)


class SEResNet(nn.Module):
    """The backbone: ResNet of `num_layers` (50, 101 or 152) with SE layers in each stage's first block."""

    def __init__(self, num_layers: int = 50) -> None:
        super().__init__()
        if num_layers not in STAGE_BLOCKS:
            raise ValueError(f"FastPose's SE-ResNet has {', '.join(map(str, STAGE_BLOCKS))} layers, got {num_layers}")
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        inplanes = 64
        for index, (planes, blocks) in enumerate(zip((64, 128, 256, 512), STAGE_BLOCKS[num_layers]), start=1):
            stride = 1 if index == 1 else 2
            downsample = nn.Sequential(
                nn.Conv2d(inplanes, planes * EXPANSION, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(planes * EXPANSION),
            )
            layers = [Bottleneck(inplanes, planes, stride, downsample, squeeze_excite=True)]
            layers += [Bottleneck(planes * EXPANSION, planes) for _ in range(1, blocks)]
            setattr(self, f"layer{index}", nn.Sequential(*layers))
            inplanes = planes * EXPANSION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(F.relu(self.bn1(self.conv1(x)), inplace=True))    # (batch, 64, H/4, W/4)
        x = self.layer1(x)                                                  # (batch, 256, H/4, W/4)
        x = self.layer2(x)                                                  # (batch, 512, H/8, W/8)
        x = self.layer3(x)                                                  # (batch, 1024, H/16, W/16)
        return self.layer4(x)                                               # (batch, 2048, H/32, W/32)


class DUC(nn.Module):
    """Dense upsampling convolution: 3x3 convolution to `planes`, batch norm, ReLU, then pixel
    shuffle by `upscale_factor` (planes / factor^2 channels at factor x the resolution)."""

    def __init__(self, inplanes: int, planes: int, upscale_factor: int = 2) -> None:
        super().__init__()
        self.conv = nn.Conv2d(inplanes, planes, kernel_size=3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(planes)
        self.pixel_shuffle = nn.PixelShuffle(upscale_factor)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pixel_shuffle(F.relu(self.bn(self.conv(x)), inplace=True))


class FastPose(nn.Module):
    """AlphaPose's FastPose heatmap network (Fang et al. 2022, TPAMI, arXiv:2211.03375).

    Parameters
    ----------
    NUM_JOINTS
        Heatmaps out: 26 for Halpe-26, 17 for COCO-17 (upstream's DATA_PRESET.NUM_JOINTS).
    NUM_LAYERS
        Depth of the SE-ResNet backbone: 50, 101 or 152 (upstream's MODEL.NUM_LAYERS).
    CONV_DIM
        Channels of the last upsampling stage, 128 or 256 (upstream's MODEL.CONV_DIM, default 128).

    The parameter names are upstream's configuration keys, so a config's MODEL and DATA_PRESET
    entries can be passed as they are written there.
    """

    def __init__(self, NUM_JOINTS: int = 26, NUM_LAYERS: int = 50, CONV_DIM: int = 128) -> None:  # noqa: N803
        super().__init__()
        if CONV_DIM not in (128, 256):
            raise ValueError(f"CONV_DIM must be 128 or 256, got {CONV_DIM}")
        self.num_joints, self.num_layers, self.conv_dim = NUM_JOINTS, NUM_LAYERS, CONV_DIM
        self.preact = SEResNet(NUM_LAYERS)
        self.suffle1 = nn.PixelShuffle(2)                  # upstream's spelling: a state-dict-free name
        self.duc1 = DUC(512, 1024, upscale_factor=2)
        self.duc2 = DUC(256, 4 * CONV_DIM, upscale_factor=2)
        self.conv_out = nn.Conv2d(CONV_DIM, NUM_JOINTS, kernel_size=3, stride=1, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, 3, H, W) normalised RGB crops, H and W multiples of 32 -> (batch, NUM_JOINTS, H/4, W/4)."""
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"FastPose takes (batch, 3, height, width) images, got shape {tuple(x.shape)}")
        if x.shape[2] % 32 or x.shape[3] % 32:
            raise ValueError(f"FastPose's input height and width must be multiples of 32, got {tuple(x.shape[2:])}")
        out = self.preact(x)                               # (batch, 2048, H/32, W/32)
        out = self.suffle1(out)                            # (batch, 512, H/16, W/16)
        out = self.duc1(out)                               # (batch, 256, H/8, W/8)
        out = self.duc2(out)                               # (batch, CONV_DIM, H/4, W/4)
        return self.conv_out(out)                          # (batch, NUM_JOINTS, H/4, W/4)
