"""The checked-in gRPC stubs match the .proto files."""
from __future__ import annotations

import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_stubs_are_fresh(tmp_path):
    spec = importlib.util.spec_from_file_location("gen_protos", REPO / "scripts" / "gen_protos.py")
    gen_protos = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen_protos)
    gen_protos.generate(tmp_path)
    generated = sorted(p.name for p in (tmp_path / "gait" / "v1").iterdir())
    assert generated == ["stages_pb2.py", "stages_pb2.pyi", "stages_pb2_grpc.py"]
    for name in generated:
        fresh = (tmp_path / "gait" / "v1" / name).read_text()
        assert (REPO / "gait" / "v1" / name).read_text() == fresh, (
            f"gait/v1/{name} is stale: run `python scripts/gen_protos.py` and commit the result")
