"""DSTformer, the Dual-stream Spatio-temporal Transformer of MotionBERT.

Zhu, Ma, Liu, Liu, Wu, Wang (2023): MotionBERT: A Unified Perspective on Learning Human Motion
Representations. ICCV 2023, arXiv:2210.06551. Section 3.2 and figure 2.

Written for this project from the paper and from reading upstream's lib/model/DSTformer.py
(Walter0807/MotionBERT, Apache-2.0) so that the official checkpoints load with `strict=True`: the
module and parameter names below are the names of the checkpoints' state dicts.

The network, for a clip of F frames of J joints with C_in channels (x, y, confidence):

- joint embedding: a linear layer to `dim_feat`, plus a learned spatial position embedding per
  joint and a learned temporal position embedding per frame (`maxlen` of them);
- `depth` layers, each with two streams over the same tokens: S-T (spatial MHSA and MLP, then
  temporal MHSA and MLP) and T-S (the other order); their outputs are fused per token with
  weights alpha = softmax(Linear([x_st, x_ts])) (adaptive fusion, "att_fuse") or averaged;
- a final layer norm, a "representation" layer (linear + tanh to `dim_rep`) and a linear head
  to `dim_out` (3D coordinates).

Attention is computed with `torch.nn.functional.scaled_dot_product_attention` (fused kernels on
GPU and CPU); it computes softmax(q k^T * scale) v as upstream does.
"""
from __future__ import annotations

from collections import OrderedDict
from functools import partial
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

# Upstream's load_backbone builds the network with LayerNorm(eps=1e-6): the checkpoints were
# trained with it, so it is the default here (upstream's class default is PyTorch's 1e-5).
DEFAULT_NORM_LAYER = partial(nn.LayerNorm, eps=1e-6)


class DropPath(nn.Module):
    """Stochastic depth (Huang et al. 2016, arXiv:1603.09382): during training, drop the whole
    residual branch of a sample with probability `drop_prob` and scale the kept ones by
    1 / (1 - drop_prob). Identity at inference."""

    def __init__(self, drop_prob: float = 0.0) -> None:
        super().__init__()
        self.drop_prob = drop_prob

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.drop_prob == 0.0 or not self.training:
            return x
        keep = 1.0 - self.drop_prob
        mask = torch.rand((x.shape[0],) + (1,) * (x.ndim - 1), dtype=x.dtype, device=x.device) < keep
        return x * mask / keep


class MLP(nn.Module):
    """Two linear layers with GELU between them (the transformer's feed-forward block)."""

    def __init__(self, in_features: int, hidden_features: int, out_features: int, drop: float = 0.0) -> None:
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden_features)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden_features, out_features)
        self.drop = nn.Dropout(drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.fc2(self.drop(self.act(self.fc1(x)))))


class MultiHeadSelfAttention(nn.Module):
    """Multi-head self-attention over the joints of a frame (S-MHSA, `axis="spatial"`) or over
    the frames of a joint (T-MHSA, `axis="temporal"`).

    Tokens come in as (batch * frames, joints, dim); `frames` is needed to regroup them in time.
    """

    def __init__(self, dim: int, num_heads: int, axis: str, qkv_bias: bool = True, qk_scale: float | None = None,
                 attn_drop: float = 0.0, proj_drop: float = 0.0) -> None:
        super().__init__()
        if axis not in ("spatial", "temporal"):
            raise ValueError(f"axis must be 'spatial' or 'temporal', got {axis!r}")
        if dim % num_heads:
            raise ValueError(f"dim {dim} is not divisible by num_heads {num_heads}")
        self.axis = axis
        self.num_heads = num_heads
        self.scale = qk_scale or (dim // num_heads) ** -0.5
        self.attn_drop = attn_drop
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x: torch.Tensor, frames: int) -> torch.Tensor:
        bf, joints, dim = x.shape                       # (B*F, J, C)
        heads = self.num_heads
        # (B*F, J, 3C) -> (3, B*F, H, J, C/H): channels are ordered (q|k|v, head, head channel)
        q, k, v = self.qkv(x).reshape(bf, joints, 3, heads, dim // heads).permute(2, 0, 3, 1, 4)
        if self.axis == "temporal":
            # (B*F, H, J, c) -> (B, H, J, F, c): attend across the F frames of each joint
            q, k, v = (t.reshape(bf // frames, frames, heads, joints, -1).permute(0, 2, 3, 1, 4) for t in (q, k, v))
        out = F.scaled_dot_product_attention(q, k, v, dropout_p=self.attn_drop if self.training else 0.0,
                                             scale=self.scale)
        if self.axis == "temporal":
            out = out.permute(0, 3, 2, 1, 4)            # (B, H, J, F, c) -> (B, F, J, H, c)
        else:
            out = out.transpose(1, 2)                   # (B*F, H, J, c) -> (B*F, J, H, c)
        out = out.reshape(bf, joints, dim)              # heads concatenated: (B*F, J, C)
        return self.proj_drop(self.proj(out))


class DSTBlock(nn.Module):
    """One stream of a DSTformer layer: spatial then temporal (`order="st"`) or temporal then
    spatial (`order="ts"`), each a pre-norm attention and a pre-norm MLP with residuals."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float = 4.0, order: str = "st", qkv_bias: bool = True,
                 qk_scale: float | None = None, drop: float = 0.0, attn_drop: float = 0.0, drop_path: float = 0.0,
                 norm_layer: Callable[[int], nn.Module] = DEFAULT_NORM_LAYER) -> None:
        super().__init__()
        if order not in ("st", "ts"):
            raise ValueError(f"order must be 'st' or 'ts', got {order!r}")
        self.order = order
        attention = partial(MultiHeadSelfAttention, dim, num_heads, qkv_bias=qkv_bias, qk_scale=qk_scale,
                            attn_drop=attn_drop, proj_drop=drop)
        self.norm1_s, self.norm2_s = norm_layer(dim), norm_layer(dim)
        self.norm1_t, self.norm2_t = norm_layer(dim), norm_layer(dim)
        self.attn_s = attention(axis="spatial")
        self.attn_t = attention(axis="temporal")
        self.mlp_s = MLP(dim, int(dim * mlp_ratio), dim, drop)
        self.mlp_t = MLP(dim, int(dim * mlp_ratio), dim, drop)
        self.drop_path = DropPath(drop_path) if drop_path > 0.0 else nn.Identity()

    def _spatial(self, x: torch.Tensor, frames: int) -> torch.Tensor:
        x = x + self.drop_path(self.attn_s(self.norm1_s(x), frames))
        return x + self.drop_path(self.mlp_s(self.norm2_s(x)))

    def _temporal(self, x: torch.Tensor, frames: int) -> torch.Tensor:
        x = x + self.drop_path(self.attn_t(self.norm1_t(x), frames))
        return x + self.drop_path(self.mlp_t(self.norm2_t(x)))

    def forward(self, x: torch.Tensor, frames: int) -> torch.Tensor:
        if self.order == "st":
            return self._temporal(self._spatial(x, frames), frames)
        return self._spatial(self._temporal(x, frames), frames)


class DSTformer(nn.Module):
    """Dual-stream Spatio-temporal Transformer (MotionBERT's motion encoder and 3D pose head).

    Parameters (upstream's names; the official 3D-pose configurations are in `configs.py`)
    ----------
    dim_in
        Channels per input joint: 3 (x, y, confidence).
    dim_out
        Channels per output joint: 3 (x, y, z); 0 leaves the head out.
    dim_feat
        Token width (512 for MotionBERT, 256 for MotionBERT-Lite).
    dim_rep
        Width of the motion representation before the head (512); 0 leaves the tanh layer out.
    depth
        Number of dual-stream layers (5).
    num_heads
        Attention heads (8).
    mlp_ratio
        MLP hidden width over `dim_feat` (2 full, 4 lite).
    num_joints
        Joints per frame (17, Human3.6M order).
    maxlen
        Longest clip in frames: the number of temporal position embeddings (243).
    qkv_bias, qk_scale
        Bias of the query/key/value projection; attention scale (None: head width ** -0.5).
    drop_rate, attn_drop_rate, drop_path_rate
        Dropout after projections and MLPs, on attention weights, and the largest stochastic-depth
        rate (rising linearly over the layers); only active in training.
    norm_layer
        Layer-norm factory; default LayerNorm(eps=1e-6), as upstream builds the released models.
    att_fuse
        Fuse the two streams with learned per-token weights (True in every released model)
        instead of averaging them.
    """

    def __init__(self, dim_in: int = 3, dim_out: int = 3, dim_feat: int = 256, dim_rep: int = 512, depth: int = 5,
                 num_heads: int = 8, mlp_ratio: float = 4, num_joints: int = 17, maxlen: int = 243,
                 qkv_bias: bool = True, qk_scale: float | None = None, drop_rate: float = 0.0,
                 attn_drop_rate: float = 0.0, drop_path_rate: float = 0.0,
                 norm_layer: Callable[[int], nn.Module] = DEFAULT_NORM_LAYER, att_fuse: bool = True) -> None:
        super().__init__()
        self.dim_in, self.dim_out, self.dim_feat, self.dim_rep = dim_in, dim_out, dim_feat, dim_rep
        self.num_joints, self.maxlen, self.att_fuse = num_joints, maxlen, att_fuse
        self.joints_embed = nn.Linear(dim_in, dim_feat)
        self.pos_drop = nn.Dropout(drop_rate)
        drop_paths = torch.linspace(0, drop_path_rate, depth).tolist()  # stochastic depth rises with depth
        block = partial(DSTBlock, dim_feat, num_heads, mlp_ratio, qkv_bias=qkv_bias, qk_scale=qk_scale,
                        drop=drop_rate, attn_drop=attn_drop_rate, norm_layer=norm_layer)
        self.blocks_st = nn.ModuleList([block(order="st", drop_path=drop_paths[i]) for i in range(depth)])
        self.blocks_ts = nn.ModuleList([block(order="ts", drop_path=drop_paths[i]) for i in range(depth)])
        self.norm = norm_layer(dim_feat)
        if dim_rep:
            self.pre_logits = nn.Sequential(OrderedDict([("fc", nn.Linear(dim_feat, dim_rep)), ("act", nn.Tanh())]))
        else:
            self.pre_logits = nn.Identity()
        self.head = nn.Linear(dim_rep or dim_feat, dim_out) if dim_out > 0 else nn.Identity()
        self.temp_embed = nn.Parameter(torch.zeros(1, maxlen, 1, dim_feat))
        self.pos_embed = nn.Parameter(torch.zeros(1, num_joints, dim_feat))
        if att_fuse:
            self.ts_attn = nn.ModuleList([nn.Linear(dim_feat * 2, 2) for _ in range(depth)])
        self._init_weights()

    def _init_weights(self) -> None:
        """Upstream's initialisation (truncated normal, std 0.02; fusion starts as an average)."""
        nn.init.trunc_normal_(self.temp_embed, std=0.02)
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.trunc_normal_(module.weight, std=0.02)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.LayerNorm):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
        if self.att_fuse:
            for fuse in self.ts_attn:
                nn.init.zeros_(fuse.weight)
                nn.init.constant_(fuse.bias, 0.5)

    def check_input(self, x: torch.Tensor) -> None:
        """Raise ValueError naming what is wrong with an input that is not (batch, frames, joints, dim_in)."""
        if x.ndim != 4:
            raise ValueError(f"DSTformer takes (batch, frames, joints, channels), got a tensor of shape {tuple(x.shape)}")
        batch, frames, joints, channels = x.shape
        if joints != self.num_joints or channels != self.dim_in:
            raise ValueError(f"DSTformer expects {self.num_joints} joints with {self.dim_in} channels each, "
                             f"got shape {tuple(x.shape)}")
        if not 1 <= frames <= self.maxlen:
            raise ValueError(f"DSTformer takes clips of 1 to {self.maxlen} frames, got {frames}")
        if batch < 1:
            raise ValueError("DSTformer got an empty batch")

    def forward(self, x: torch.Tensor, return_rep: bool = False) -> torch.Tensor:
        """(B, F, J, dim_in) 2D keypoints -> (B, F, J, dim_out), or (B, F, J, dim_rep) with `return_rep`."""
        self.check_input(x)
        batch, frames, joints, _ = x.shape
        x = self.joints_embed(x.reshape(batch * frames, joints, -1)) + self.pos_embed  # (B*F, J, C)
        x = x.reshape(batch, frames, joints, -1) + self.temp_embed[:, :frames]        # (B, F, J, C)
        x = self.pos_drop(x.reshape(batch * frames, joints, -1))                       # (B*F, J, C)
        for i, (stream_st, stream_ts) in enumerate(zip(self.blocks_st, self.blocks_ts)):
            x_st, x_ts = stream_st(x, frames), stream_ts(x, frames)
            if self.att_fuse:
                alpha = self.ts_attn[i](torch.cat([x_st, x_ts], dim=-1)).softmax(dim=-1)  # (B*F, J, 2)
                x = x_st * alpha[..., 0:1] + x_ts * alpha[..., 1:2]
            else:
                x = (x_st + x_ts) * 0.5
        x = self.norm(x).reshape(batch, frames, joints, -1)                            # (B, F, J, C)
        x = self.pre_logits(x)                                                         # (B, F, J, dim_rep)
        return x if return_rep else self.head(x)

    def get_representation(self, x: torch.Tensor) -> torch.Tensor:
        """The motion representation E (B, F, J, dim_rep) that upstream's downstream heads use."""
        return self.forward(x, return_rep=True)
