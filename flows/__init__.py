"""Prefect orchestration of the four gait stages. The flows import the core (`gait`) and reach the
services over gRPC only; `gaitcli.local` and `gaitcli.stack` run them against local services.

- `flows.gait_flow`: the `gait` flow (typed parameters, one small task per stage) and `run_pipeline()`,
  the per-video chain it shares with the batch.
- `flows.batch_flow`: the batch flow of `gait/batch` (a store prefix or a list of keys, a few videos at a time).
- `flows.deployments`: the `gait/full` and `gait/batch` deployments, declared in one place,
  `serve_deployments()` and `deploy_to_work_pool()` (`gait deploy`).
- `flows.progress`: an optional in-process listener for per-stage progress lines.
- `gait.client`: one stage call (channel per call, deadline, wait_for_ready, transient codes).
- `flows.smoke_flow`: the `gait-smoke` flow of `gait health --flow` (the chart's `helm test`).
- `flows.runtime`: Prefect's environment defaults (PREFECT_HOME under GAIT_HOME, no telemetry)
  and the temporary API server process.
- `flows.local_server`: the API server `gait run` and `gait batch` keep running between commands
  (stops after GAIT_PREFECT_IDLE_S without a request).

Importing this package does not import Prefect (its settings are read when Prefect is imported,
see `flows.runtime.configure_prefect`).
"""
