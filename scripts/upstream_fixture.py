"""What the fixture-recording scripts (make_*_fixture.py) share: their command line, the rule that
upstream's code lies outside this repository, and the record of a checkpoint layout.

Imported by each script's main() from beside it (a script's folder is its sys.path[0]); the tests
import the scripts' other functions as scripts.make_*_fixture, without this module.
"""
from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Mapping

import torch

from gait.config import REPO_ROOT

log = logging.getLogger("upstream_fixture")


def fixture_parser(doc: str, upstream_help: str, commit_help: str, default_out: Path,
                   commit_required: bool = True) -> argparse.ArgumentParser:
    """--upstream (upstream's checkout or archive), --upstream-commit and --out (the fixtures' folder)."""
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("--upstream", type=Path, required=True, help=upstream_help)
    parser.add_argument("--upstream-commit", required=commit_required, help=commit_help)
    parser.add_argument("--out", type=Path, default=default_out)
    return parser


def parse_fixture_arguments(parser: argparse.ArgumentParser) -> tuple[argparse.Namespace, Path]:
    """The arguments and upstream's resolved folder, refused inside this repository; log lines on."""
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    upstream = args.upstream.resolve()
    if REPO_ROOT in upstream.parents or upstream == REPO_ROOT:
        raise SystemExit("use an upstream checkout outside this repository")
    return args, upstream


def checkpoint_layout(config: str, state: Mapping[str, torch.Tensor], parameters: int) -> dict:
    """checkpoint_layouts.json's entry for the network built from upstream's `config`: every key and
    shape of its state dict, and its parameter count."""
    log.info("%s: %d keys, %d parameters", config, len(state), parameters)
    return {"config": config, "parameters": parameters, "keys": {k: list(v.shape) for k, v in state.items()}}
