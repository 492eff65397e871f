"""The probe of a stage pod when its gRPC port speaks TLS, which the kubelet's native gRPC probe
cannot: `python -m gait.probe PORT SERVER_NAME` asks grpc.health.v1.Health/Check of the server on
127.0.0.1:PORT over the pod's TLS settings (GAIT_TLS_CA; GAIT_TLS_CLIENT_CERT/KEY with mutual TLS),
checking the server's certificate for SERVER_NAME (the Service's name, which the certificate
carries, not 127.0.0.1). Exit status 0 when SERVING, else 1, with one line (the chart's exec probes).
"""
from __future__ import annotations

import argparse
import sys

from gait.health import check_grpc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gait.probe", description=__doc__.split("\n\n")[0])
    parser.add_argument("port", type=int, help="the stage's gRPC port in this pod")
    parser.add_argument("server_name", help="the name the server's certificate carries (the Service's)")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds for the answer (default 5)")
    args = parser.parse_args(argv)
    healthy, line = check_grpc(f"127.0.0.1:{args.port}", timeout_s=args.timeout, server_name=args.server_name)
    print(line, file=sys.stdout if healthy else sys.stderr)
    return 0 if healthy else 1


if __name__ == "__main__":
    raise SystemExit(main())
