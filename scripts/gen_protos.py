"""Regenerate the checked-in gRPC stubs in gait/v1 from proto/gait/v1/*.proto.

Usage: python scripts/gen_protos.py [OUTPUT_ROOT]   (default: the repository root)
"""
from __future__ import annotations

import sys
from pathlib import Path

from grpc_tools import protoc

REPO = Path(__file__).resolve().parent.parent
PROTO_ROOT = REPO / "proto"


def generate(output_root: Path) -> None:
    output_root.mkdir(parents=True, exist_ok=True)
    sources = sorted(str(p.relative_to(PROTO_ROOT)) for p in (PROTO_ROOT / "gait" / "v1").glob("*.proto"))
    include = Path(protoc.__file__).parent / "_proto"
    code = protoc.main(
        ["protoc", f"-I{PROTO_ROOT}", f"-I{include}", f"--python_out={output_root}",
         f"--pyi_out={output_root}", f"--grpc_python_out={output_root}", *sources]
    )
    if code != 0:
        raise SystemExit(f"protoc failed with exit code {code}")


if __name__ == "__main__":
    generate(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO)
