"""The S3 server (moto, behind tests.faults.outage.Outage: every connection reset) goes away for a
while during a batch on the S3 store (GAIT_STORE=s3: the four services as processes, `gait batch
--services external`), and comes back on the same port. The outage starts as rotate's bundle is
committed, so it meets the next steps (pose2d's service, or the flow itself, reading the store):
the step that met it retries (a store that is unreachable is transient) and the batch completes,
the video done and every committed bundle whole (the batch's log shows the step that met it)."""
from __future__ import annotations

import uuid

import pytest

from gait.config import StoreConfig
from gait.store import open_store
from tests.faults.conftest import (ServiceStack, base_env, check_bundles, free_port, gait_command, variant,
                                   video_finished)
from tests.faults.outage import Outage

# urllib3 tries an S3 request up to 4 times: this many resets fail at least one store operation
RESETS_THAT_FAIL_A_STEP = 4


@pytest.fixture(scope="module")
def s3(prefect_api):
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    outage = Outage(("127.0.0.1", port))
    yield f"127.0.0.1:{port}", outage
    outage.close()
    server.stop()


def test_a_batch_on_s3_rides_out_the_store_going_away(s3, prefect_api, clip, tmp_path):
    direct, outage = s3
    bucket = f"gait-{uuid.uuid4().hex[:12]}"
    variables = {"GAIT_STORE": "s3", "GAIT_S3_BUCKET": bucket, "GAIT_S3_ACCESS_KEY": "test",
                 "GAIT_S3_SECRET_KEY": "test"}
    store = open_store(StoreConfig(backend="s3", s3_endpoint=direct, s3_bucket=bucket, s3_access_key="test",
                                   s3_secret_key="test"))
    store.put_file("archive-s3/a.mp4", variant(clip, tmp_path / "a.mp4", "s3 a"))
    services = ServiceStack(base_env(tmp_path / "home", GAIT_S3_ENDPOINT=f"127.0.0.1:{outage.port}", **variables))
    services.start()
    try:
        services.env["PREFECT_API_URL"] = prefect_api.wait_ready()
        batch = gait_command("batch", "archive-s3/", "--concurrency", "1", "--services", "external",
                             env=services.client_env())
        while not any(key.endswith("/manifest.json") for key in store.list("rotate/")):  # pose2d is next
            assert batch.poll() is None, batch.communicate()
        outage.down()
        assert outage.wait_refused(RESETS_THAT_FAIL_A_STEP, timeout_s=120), "nothing asked the store during the outage"
        outage.up()
        out, err = batch.communicate(timeout=300)
    finally:
        services.stop()
    assert batch.returncode == 0, out + err
    assert video_finished(out.splitlines()[0], "archive-s3/a.mp4"), out
    log = (tmp_path / "home" / "logs" / "gait-batch.log").read_text()
    assert f"object store 127.0.0.1:{outage.port} unreachable" in log, "no step met the outage"
    assert check_bundles(store) == []
