"""Prefect orchestration of the four gait stages.

- `flows.gait_flow`: the `gait` flow (typed parameters, one small task per stage) and `run_pipeline()`,
  the per-video chain it shares with the batch.
- `flows.batch`: the batch flow of `gait/batch` (a store prefix or a list of keys, a few videos at a time).
- `flows.deployments`: the `gait/full` and `gait/batch` deployments, declared in one place,
  `serve_deployments()` and `deploy_to_work_pool()` (`gait deploy`).
- `flows.stack`: `run_stack()` / `python -m flows.stack`: a local Prefect server, the four services
  and the served deployment, for `prefect deployment run gait/full -p video=...`.
- `flows.local`: `run_local()` and `run_batch_local()`: the flow run in this process for `gait run`
  and `gait batch` (a real Prefect flow run against Prefect's temporary API server, started early
  so it overlaps the services' start-up).
- `flows.progress`: an optional in-process listener for per-stage progress lines.
- `flows.client`: one stage call (channel per call, deadline, wait_for_ready, transient codes).
- `flows.runtime`: Prefect's environment defaults (PREFECT_HOME under GAIT_HOME, no telemetry)
  and the temporary API server process.

Importing this package does not import Prefect (its settings are read when Prefect is imported,
see `flows.runtime.configure_prefect`).
"""
