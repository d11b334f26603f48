"""Acceptance: which checks of a run must pass for it to be released, and the blockers that stop
it. The model's status decides what is enforced; `known_issues` waive named failures (never a
crash); a requirements file replaces the registry's performance and accuracy targets."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evals.scoring import decide_score, wilson_interval
from reports.release_scope import narrowed_by, required_children
from reports.requirements import Grade, grade_accuracy, grade_capacity, grade_goodput
from reports.run_data import NARROWED_OUT, Point, RunData
from reports.status import Status, UnknownStatus, read_status
from reports.targets import (
    FAIL,
    MISSING,
    PASS,
    UNASKED_CACHE_LIMIT,
    UNJUDGED,
    MetricCheck,
    TargetPoint,
    TierCheck,
    check_targets,
    enforced_tiers,
)

STRICTER_THAN_UPSTREAM = (
    "Every tier the model's status enforces must pass at every target point, and a target "
    "metric that was not measured counts as a failure. The upstream runner accepts a point "
    "when any one tier passes and counts a missing figure as a pass, so a `complete` model "
    "that reaches only the functional tier passes there; it does not pass here."
)
FAILS_CLOSED = (
    "No evidence is never a pass: a check that could not be judged (skipped, not comparable, "
    "no reference, an unknown status) blocks a category the model's status enforces unless a "
    "known issue names it, and an enforced category with no check that passed blocks too."
)


@dataclass(frozen=True)
class Finding:
    """A check that did not pass: what failed, where, and by how much."""

    key: str
    category: str
    where: str
    message: str
    reason: str = ""  # why it is waived or advisory

    def as_dict(self) -> dict[str, str]:
        found = {"key": self.key, "category": self.category, "where": self.where}
        return found | {"message": self.message} | ({"reason": self.reason} if self.reason else {})


@dataclass
class Category:
    name: str
    enforced: bool
    total: int = 0
    passed: int = 0
    failed: int = 0
    na: int = 0
    skipped: int = 0
    blockers: list[Finding] = field(default_factory=list)
    waived: list[Finding] = field(default_factory=list)
    advisories: list[Finding] = field(default_factory=list)  # misses that do not block
    marginal: list[Finding] = field(default_factory=list)  # decided by the mean: shown first
    checks: list[tuple[str, str, str]] = field(default_factory=list)  # key, outcome, message

    @property
    def status(self) -> str:
        if self.blockers:
            return "FAIL"
        if not self.total:
            return "NOT RUN"
        return "PASS" if self.enforced else "NOT ENFORCED"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "enforced": self.enforced,
            "total": self.total,
            "passed": self.passed,
            "failed": self.failed,
            "na": self.na,
            "skipped": self.skipped,
            "blockers": len(self.blockers),
            "waived": len(self.waived),
            "advisories": len(self.advisories),
            "marginal": len(self.marginal),
        }


ACCEPTED, NOT_ACCEPTED, PARTIAL = "ACCEPTED", "NOT ACCEPTED", "PARTIAL"


@dataclass(frozen=True)
class Acceptance:
    """`accepted`: a whole release with no blocker. `partial` says why a run is not a whole
    release (not a release at all, or one narrowed by its arguments): it gets no release
    verdict, whatever its checks say."""

    accepted: bool
    model_status: str
    enforced_tiers: tuple[str, ...]
    categories: tuple[Category, ...]
    target_points: tuple[TargetPoint, ...]
    grades: tuple[Grade, ...]
    source: str  # "registry" or "requirements: <name>"
    notes: tuple[str, ...]
    partial: tuple[str, ...] = ()

    @property
    def verdict(self) -> str:
        if self.partial:
            return PARTIAL
        return ACCEPTED if self.accepted else NOT_ACCEPTED

    @property
    def blockers(self) -> list[Finding]:
        return [finding for category in self.categories for finding in category.blockers]

    @property
    def waived(self) -> list[Finding]:
        return [finding for category in self.categories for finding in category.waived]

    @property
    def advisories(self) -> list[Finding]:
        return [finding for category in self.categories for finding in category.advisories]

    @property
    def marginal(self) -> list[Finding]:
        """Checks whose 95% interval straddled their target even after re-measuring: decided
        by the mean, so a reader sees them first."""
        return [finding for category in self.categories for finding in category.marginal]


class Waivers:
    """The spec's `known_issues`: (workflow, task) -> reason; a waiver without a task covers
    the whole workflow."""

    def __init__(self, known_issues: Iterable[Mapping[str, Any]]) -> None:
        self.reasons = {(str(i["workflow"]), i.get("task")): str(i["reason"]) for i in known_issues}

    def reason(self, workflow: str, task: str) -> str | None:
        return self.reasons.get((workflow, task)) or self.reasons.get((workflow, None))

    def waive_workflow(self, workflow: str) -> bool:
        """A known issue for the whole workflow: its category needs no evidence."""
        return (workflow, None) in self.reasons


class Judge:
    """Fills one category: a failure is waived, advisory, or a blocker."""

    def __init__(self, category: Category, waivers: Waivers) -> None:
        self.category = category
        self.waivers = waivers

    def _record(self, key: str, outcome: str, message: str) -> None:
        self.category.checks.append((f"{self.category.name}:{key}", outcome, message))

    def passed(self, key: str, message: str = "") -> None:
        self.category.total += 1
        self.category.passed += 1
        self._record(key, "PASS", message)

    def not_applicable(self, key: str, message: str = "", skipped: bool = False) -> None:
        self.category.total += 1
        if skipped:
            self.category.skipped += 1
        else:
            self.category.na += 1
        self._record(key, "SKIPPED" if skipped else "N/A", message)

    def failed(self, key: str, where: str, message: str, task: str, binding: bool = False) -> None:
        """A failed check; `binding` ones block whatever the status (failed requests)."""
        category = self.category
        category.total += 1
        category.failed += 1
        finding = Finding(f"{category.name}:{key}", category.name, where, message)
        reason = self.waivers.reason(category.name, task)
        if reason:
            category.waived.append(_with_reason(finding, f"known issue: {reason}"))
            self._record(key, "WAIVED", f"{message} (known issue: {reason})")
        elif not (category.enforced or binding):
            category.advisories.append(_with_reason(finding, "not enforced for this status"))
            self._record(key, "NOT ENFORCED", message)
        else:
            category.blockers.append(finding)
            self._record(key, "FAIL", message)

    def graded(self, grade: Grade) -> None:
        message = f"{grade.what}: {grade.detail}"
        if grade.marginal:
            self.marginal(grade.key, grade.where, message)
        if grade.met:
            self.passed(grade.key, message)
            return
        self.category.total += 1
        self.category.failed += 1
        finding = Finding(
            f"{self.category.name}:{grade.key}", self.category.name, grade.where, message
        )
        if grade.priority == "should":
            self.category.advisories.append(_with_reason(finding, "a `should` requirement"))
            self._record(grade.key, "SHOULD MISSED", message)
        else:
            self.category.blockers.append(finding)
            self._record(grade.key, "FAIL", message)

    def unjudged(self, key: str, where: str, message: str, task: str) -> None:
        """A check that could not be judged: no evidence, so it fails an enforced category
        unless a known issue names it (an advisory where the category is not enforced)."""
        self.failed(key, where, f"{message} (could not be judged: no evidence is no pass)", task)

    def advisory(self, key: str, where: str, message: str, reason: str) -> None:
        """A finding a reader must see that does not decide the verdict on its own."""
        name = self.category.name
        finding = Finding(f"{name}:{key}", name, where, message, reason)
        self.category.advisories.append(finding)

    def marginal(self, key: str, where: str, message: str) -> None:
        """A check its interval could not decide: the mean did, and a reader must know."""
        name = self.category.name
        self.category.marginal.append(Finding(f"{name}:{key}", name, where, message))

    def blocker(self, key: str, where: str, message: str) -> None:
        """A failure nothing waives: a crashed task, results that were never written."""
        self.category.total += 1
        self.category.failed += 1
        name = self.category.name
        self.category.blockers.append(Finding(f"{name}:{key}", name, where, message))
        self._record(key, "FAIL", message)


def _with_reason(finding: Finding, reason: str) -> Finding:
    return Finding(finding.key, finding.category, finding.where, finding.message, reason)


@dataclass
class Evidence:
    """What every category's judge reads: the run, its waivers and status, the target points,
    and the requirement grades the judges add to."""

    run: RunData
    waivers: Waivers
    status: str
    targets: tuple[TargetPoint, ...]
    tiers: bool  # whether the status enforces any performance tier
    grades: list[Grade] = field(default_factory=list)


def judge_run(run: RunData) -> Acceptance:
    spec = run.spec
    status = str(spec.get("status", ""))
    waivers = Waivers(spec.get("known_issues") or ())
    requirements = run.requirements
    tiers = () if requirements else enforced_tiers(status)
    targets = check_targets(spec, run.benchmarks, enforce=tiers)
    evidence = Evidence(run, waivers, status, tuple(targets), bool(tiers))
    categories = [_workflows(run)] if run.release is not None else []
    categories += [judge(evidence) for name, judge in JUDGES.items() if run.ran(name)]
    for category in categories:
        if not waivers.waive_workflow(category.name):
            _require_evidence(category)
    notes = [STRICTER_THAN_UPSTREAM, FAILS_CLOSED]
    if requirements:
        notes.append(
            f"Targets come from the requirements file '{requirements['name']}': the registry's "
            "performance tiers are shown but not enforced, and so are its eval references for "
            "the tasks the file grades; the tasks it does not name are judged as the registry "
            "says."
        )
    blocked = any(category.blockers for category in categories)
    partial = partial_reasons(run)
    return Acceptance(
        accepted=not blocked and not partial,
        model_status=status,
        enforced_tiers=tiers,
        categories=tuple(categories),
        target_points=tuple(targets),
        grades=tuple(evidence.grades),
        source=f"requirements: {requirements['name']}" if requirements else "registry",
        notes=tuple(notes),
        partial=partial,
    )


def partial_reasons(run: RunData) -> tuple[str, ...]:
    """Why this run is not a whole release: only a release that ran every child its status
    requires, unnarrowed, gets a release verdict."""
    if run.release is None:
        workflow = run.runtime.get("run_config", {}).get("workflow") or "unknown"
        return (f"not a release: the {workflow} workflow on its own",)
    # the run's own settings say what narrowed it, whatever release.json claims
    config, release_limit = (
        run.runtime.get("run_config") or {},
        run.spec.get("release_limit_samples_mode"),
    )
    derived = narrowed_by(config, release_limit)
    narrowed = list(dict.fromkeys([*(run.release.get("narrowed") or ()), *derived]))
    left_out = [
        str(child["workflow"])
        for child in run.release.get("children", ())
        if child["status"] == "left_out" and str(child.get("message")).startswith(NARROWED_OUT)
    ]
    if left_out and not any(str(reason).startswith("workflows=") for reason in narrowed):
        narrowed.append(f"workflows= (release.json leaves out {', '.join(left_out)})")
    return tuple(f"narrowed by {reason}" for reason in narrowed)


def _require_evidence(category: Category) -> None:
    """An enforced category in which nothing passed has no evidence, whatever else it holds."""
    if category.enforced and not category.passed and not category.blockers:
        detail = f"{category.total} checks, none passed" if category.total else "no checks"
        Judge(category, Waivers(())).blocker(
            "no_evidence",
            category.name,
            f"{category.name}: {detail}; an enforced category needs at least one that passed",
        )


def _benchmarks(evidence: Evidence) -> Category:
    run, waivers, targets, grades = (
        evidence.run,
        evidence.waivers,
        evidence.targets,
        evidence.grades,
    )
    tiers = evidence.tiers
    requirements = run.requirements
    if requirements:
        goodput, capacity = requirements["goodput"], requirements.get("capacity") or {}
        enforced = bool(goodput) and goodput.get("priority", "must") == "must"
        enforced = enforced or capacity.get("priority") == "must"
    else:
        enforced = tiers and bool(targets)
    bench = Category("benchmarks", enforced=enforced)
    judge = Judge(bench, waivers)
    if _judge_left_out(judge, run):
        return bench
    _judge_targets(judge, targets)
    _judge_failed_requests(judge, run.benchmarks)
    for rejected in run.rejected:  # capacity files (points are judged above)
        if rejected.file.startswith("benchmarks/capacity_"):
            judge.blocker("not_evidence", rejected.file, f"{rejected} (no evidence)")
    if requirements:
        goodput = grade_goodput(requirements, run.benchmarks)
        goodput += grade_capacity(requirements, run.capacities)
        grades += goodput
        for grade in goodput:
            judge.graded(grade)
    return bench


def _workflows(run: RunData) -> Category:
    """The release's children: one that crashed or never ran is a blocker, never a pass."""
    category = Category("workflows", enforced=True)
    judge = Judge(category, Waivers(()))
    children = (run.release or {}).get("children", ())
    named = {child["workflow"] for child in children}
    for name in required_children(run.runtime.get("run_config") or {}):
        if name not in named:  # a release's record names every child it was to run
            judge.blocker(
                name,
                name,
                f"{name} is missing from release.json's children: a release must run it, and "
                "its record says neither that it ran nor why it was left out",
            )
    for child in children:
        name, state = child["workflow"], child["status"]
        if state == "left_out":  # its own category says whether that blocks
            judge.not_applicable(name, f"not run: {child.get('message')}")
        elif state in ("passed", "failed"):  # it ran to its end; its own category judges it
            judge.passed(name, f"{name} ran to its end (exit {child.get('exit_code')})")
        else:
            judge.blocker(name, name, f"{name} {state}: {child.get('message') or 'no detail'}")
    return category


def _judge_left_out(judge: Judge, run: RunData) -> bool:
    """A child the release left out fails its category where that category is enforced; a
    known issue for the whole workflow waives it. One the user left out (`workflows=`) is no
    failure: the release is partial, and says so."""
    name = judge.category.name
    reason = run.left_out(name)
    if reason is None:
        return False
    if reason.startswith(NARROWED_OUT):
        judge.not_applicable("not_run", f"{name} did not run: {reason}", skipped=True)
        judge.category.enforced = False  # nothing of it to judge in a partial run
        return True
    judge.failed("not_run", name, f"{name} did not run: {reason}", "not_run")
    return True


def _judge_targets(judge: Judge, targets: Sequence[TargetPoint]) -> None:
    for point in targets:
        if point.measured is None:
            if any(tier.enforced for tier in point.tiers):
                judge.failed(
                    f"{point.key}.not_measured",
                    point.label,
                    f"{point.label} has a performance target but was not measured",
                    point.key,
                )
            continue
        for tier in point.tiers:
            if tier.enforced:
                for check in tier.checks:
                    _judge_check(judge, point, tier, check)


def _judge_check(judge: Judge, point: TargetPoint, tier: TierCheck, check: MetricCheck) -> None:
    key = f"{point.key}.{tier.tier}.{check.metric}_check"
    where = f"{point.label}, {tier.tier} tier ({tier.fraction:.0%} of theoretical)"
    if check.marginal:
        judge.marginal(key, point.label, f"{where}: {check.marginal_text()}")
    if check.check in (FAIL, MISSING):
        judge.failed(key, point.label, f"{where}: {check.shortfall()}", point.key)
    elif check.check == UNJUDGED:
        message = f"{where}, {check.metric}: {check.note or _cache_message(point)}"
        judge.unjudged(key, point.label, message, point.key)
    elif check.check == PASS:
        judge.passed(key, check.marginal_text() if check.marginal else "")
    else:
        judge.not_applicable(key, "no target for it")


def _cache_message(point: TargetPoint) -> str:
    share = point.unasked_cache_share or 0.0
    return (
        f"{share:.0%} of its prompt tokens came from the server's prompt cache, which this run "
        f"did not ask for (more than {UNASKED_CACHE_LIMIT:.0%}): its figures measure the "
        "cache, not the model's prefill; measure it again with fresh prompts (a new seed=)"
    )


def _judge_failed_requests(judge: Judge, points: Sequence[Point]) -> None:
    """Each point's failed requests; a point that is no evidence (another run's, one of two
    files for a point, rows that do not add up) blocks, naming the file and why."""
    for point in points:
        document = point.document
        failed, completed = int(document.get("failed") or 0), int(document.get("completed") or 0)
        allowed = float(document.get("max_failed") or 0.0)
        share = failed / max(failed + completed, 1)
        isl, osl, concurrency = point.key
        label = f"ISL {isl} OSL {osl} concurrency {concurrency}"
        if document.get("window") is not None:
            label += f" window {document['window']}"
        if point.problem:
            judge.blocker(
                f"isl-{isl}_osl-{osl}_conc-{concurrency}.not_evidence",
                label,
                f"{label}: {point.path.parent.name}/{point.path.name} is no evidence: "
                f"{point.problem}",
            )
        elif failed and share > allowed:
            top = next(iter(document.get("error_counts") or {}), "no error message")
            judge.failed(
                f"isl-{isl}_osl-{osl}_conc-{concurrency}.failed_requests",
                label,
                f"{label}: {failed} of {failed + completed} requests failed "
                f"({share:.0%}, allowed {allowed:.0%}); most common: {top}",
                f"isl-{isl}_osl-{osl}_conc-{concurrency}",
                binding=True,
            )
        elif failed + completed:
            judge.passed(
                f"isl-{isl}_osl-{osl}_conc-{concurrency}.failed_requests",
                f"{label}: none failed beyond the allowance",
            )


def _evals(evidence: Evidence) -> Category:
    """The registry judges each task; a requirements file's accuracy target replaces that
    judgement for the task it names (the registry's verdict stays as information), and a task
    it does not name is judged as the registry says."""
    run, waivers, status, grades = evidence.run, evidence.waivers, evidence.status, evidence.grades
    requirements = run.requirements
    targets = list(requirements["accuracy"]) if requirements else []
    graded = {str(item["task"]) for item in targets}
    musts = [item for item in targets if item.get("priority") == "must"]
    category = Category("evals", enforced=status != "experimental")  # the registry's rule
    judge = Judge(category, waivers)
    evals = run.evals
    if targets and run.left_out("evals"):
        accuracy = grade_accuracy(requirements or {}, [])  # each target: "the task was not run"
        grades += accuracy
        for grade in accuracy:
            judge.graded(grade)
        category.enforced = bool(musts)
        return category
    if _judge_left_out(judge, run):
        return category
    if evals is None:
        judge.blocker(
            "no_results",
            "evals",
            _missing(run, "evals/evals.json", "evals ran but wrote no evals/evals.json"),
        )
        return category
    tasks = list(evals.get("tasks") or ())
    if (disagreement := _summary_disagreement(evals, tasks)) is not None:
        judge.blocker("summary", "evals", f"evals/evals.json is not judged: {disagreement}")
    if not evals.get("complete", False):
        judge.blocker(
            "incomplete", "evals", "evals/evals.json is incomplete: the workflow stopped early"
        )
    for task in tasks:
        _judge_task(judge, task, str(task.get("task")) in graded, run.folder)
        _judge_under_load(judge, task)
    if requirements:
        accuracy = grade_accuracy(requirements, tasks)
        grades += accuracy
        for grade in accuracy:
            judge.graded(grade)
        judged_by_registry = any(str(task.get("task")) not in graded for task in tasks)
        category.enforced = bool(musts) or (category.enforced and judged_by_registry)
    return category


def _readable_status(judge: Judge, value: object, name: str, what: str) -> Status | None:
    """The result's status; one this runner never writes is a blocker nothing waives."""
    try:
        return read_status(value, f"{what} {name}")
    except UnknownStatus as error:
        judge.blocker(name, name, str(error))
        return None


def _judge_task(
    judge: Judge, task: Mapping[str, Any], graded_elsewhere: bool, folder: Path
) -> None:
    name, reason = str(task.get("task")), str(task.get("reason") or "")
    state = _readable_status(judge, task.get("status"), name, "evals task")
    if state is None:
        return
    if state is Status.ERROR:
        judge.blocker(name, name, f"{name} crashed: {reason or 'no detail'}")
    elif state is Status.SKIPPED and task.get("required") is False:
        judge.not_applicable(name, reason, skipped=True)  # the limit mode's own plan
    elif graded_elsewhere:  # the requirements file's accuracy target grades it instead
        _replaced(judge, name, state, reason)
        return
    elif state is Status.PASS and (doubt := _unsupported_pass(task, folder)) is not None:
        judge.unjudged(name, name, f"{name} says PASS, but {doubt}", name)
    elif state is Status.PASS:
        judge.passed(name, reason)
        _flag_implausible(judge, task)
    elif state is Status.FAIL:
        judge.failed(name, name, f"{name}: {reason}", name)
    else:
        judge.unjudged(name, name, f"{name} is {state.value}: {reason or 'no detail'}", name)
    if task.get("marginal") and state.judged:
        judge.marginal(name, name, f"{name}: {reason}")


def _missing(run: RunData, file: str, otherwise: str) -> str:
    """Why a workflow's result file is not there to judge: left out as no evidence (another
    run's, say), or never written."""
    for rejected in run.rejected:
        if rejected.file == file:
            return f"{rejected} (no evidence)"
    return otherwise


def _summary_disagreement(evals: Mapping[str, Any], tasks: Sequence[Any]) -> str | None:
    """Why the file's tasks are not the ones its own summary counts (a task removed or its
    status changed, a task twice), or None when they are."""
    summary = evals.get("summary")
    if not isinstance(summary, Mapping) or not summary:
        return "it has no summary of its tasks"
    counts = {str(key): str(key).upper() for key in summary if key != "planned"}
    said, held, twice = _tally(tasks, summary, counts, "task")
    if twice:
        return "a task is listed twice"
    if said != held:  # a status of no summary key is its own blocker (_readable_status)
        claimed = ", ".join(f"{key} {value}" for key, value in said.items())
        found = ", ".join(f"{key} {value}" for key, value in held.items() if value)
        return f"its summary counts {claimed}, its tasks hold {found or 'none'}"
    return None


def _tally(
    items: Sequence[Any], summary: object, counts: Mapping[str, str], name_key: str
) -> tuple[dict[str, object], dict[str, int], list[str]]:
    """A result file's list against its own summary (a list edited after the run no longer
    matches it): what the summary says (`counts`: its key -> the status it counts), what the
    list holds, and the names listed twice."""
    entries = [item for item in items if isinstance(item, Mapping)]
    said = {key: summary.get(key) for key in counts} if isinstance(summary, Mapping) else {}
    held = {
        key: sum(item.get("status") == state for item in entries) for key, state in counts.items()
    }
    names = [str(item.get(name_key)) for item in entries]
    return said, held, sorted({name for name in names if names.count(name) > 1})


REFERENCE_ROUNDING = 5e-4


def _unsupported_pass(task: Mapping[str, Any], folder: Path) -> str | None:
    """Why a task's own figures do not give the PASS it states (evals.scoring's rule: the
    score's 95% Wilson interval over its samples against reference x (1 - tolerance)), or its
    lm-eval output does not back them, or None when they do."""
    score, n = task.get("score"), task.get("n_samples")
    reference, tolerance = task.get("reference"), task.get("tolerance")
    figures = (score, reference, tolerance)
    if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in figures):
        return "it carries no finite score, reference and tolerance to check that by"
    fraction, floor = float(score), float(reference) * (1 - float(tolerance))  # type: ignore[arg-type]
    if not isinstance(n, int) or isinstance(n, bool) or n < 1 or not 0 <= fraction <= 1:
        return f"its score {score} over {n} samples is not a fraction of a sample count"
    # the file rounds the reference to 4 places: give the floor that much
    passed, _ = decide_score(fraction, wilson_interval(fraction, n), floor - REFERENCE_ROUNDING)
    agreement = task.get("agreement")
    if isinstance(agreement, Mapping) and agreement.get("passed") is False:
        return "its answers disagree with the reference run's beyond what is allowed"
    if not passed:
        return f"its score {fraction:.4f} over {n} samples falls short of {floor:.4f}"
    return _unbacked(task, folder, n)


def _unbacked(task: Mapping[str, Any], folder: Path, n: int) -> str | None:
    """Why lm-eval's own output (results and samples files, of each run of a repeated task)
    does not back the task's sample count, or None when it does."""
    runs = task.get("runs")
    entries = runs if isinstance(runs, list) and runs else [task]
    listed: list[object] = []
    samples: list[str] = []
    for entry in entries:
        files = entry.get("files") if isinstance(entry, Mapping) else None
        if not isinstance(files, Mapping):
            return "it lists no lm-eval output files to show that it ran"
        own = files.get("samples")
        own = own if isinstance(own, list) else [own]
        listed += [files.get("results"), *own]
        samples += [str(path) for path in own]
    absent = [str(f) for f in listed if not isinstance(f, str) or not (folder / f).is_file()]
    if absent:
        return f"its lm-eval output is missing ({', '.join(absent)})"
    answers = sum(_line_count(folder / path) for path in samples)
    if answers != n:
        return f"its samples files hold {answers} answers, not the {n} it counts"
    return None


def _line_count(path: Path) -> int:
    with path.open("rb") as lines:
        return sum(1 for line in lines if line.strip())


def _replaced(judge: Judge, name: str, state: Status, reason: str) -> None:
    """A task a requirements file grades: the registry's verdict, shown but not deciding."""
    because = "replaced by the requirements file's accuracy target"
    message = f"{name}: the registry's verdict {state.value} ({reason or 'no detail'}), {because}"
    judge.not_applicable(name, message)
    if state is not Status.PASS:
        judge.advisory(f"{name}.registry", name, message, because)


def _judge_under_load(judge: Judge, task: Mapping[str, Any]) -> None:
    """The task measured again under benchmark traffic: a significant drop from its score alone
    fails (the server answers worse when busy), one that could not be measured is unjudged."""
    loaded = task.get("under_load")
    if not isinstance(loaded, Mapping):
        return
    name = str(task.get("task"))
    key, reason = f"{name}.under_load", str(loaded.get("reason") or "no detail")
    state = _readable_status(judge, loaded.get("status"), key, "evals under load")
    if state is Status.PASS:
        judge.passed(key, reason)
    elif state is Status.FAIL:
        judge.failed(key, name, f"{name} under benchmark traffic: {reason}", name)
    elif state is not None:
        judge.unjudged(key, name, f"{name} under benchmark traffic: {reason}", name)


def _flag_implausible(judge: Judge, task: Mapping[str, Any]) -> None:
    """A score whose whole 95% interval lies above its reference: the model got much better,
    or the reference is stale, or the scorer was fooled (a program that exits 0 before its
    checks run). Shown as a finding; it does not decide the verdict alone."""
    name, interval, reference = (
        str(task.get("task")),
        task.get("interval_95"),
        task.get("reference"),
    )
    if not interval or not isinstance(reference, (int, float)) or interval[0] <= reference:
        return
    judge.advisory(
        f"{name}.implausible",
        name,
        f"{name}: score {float(task['score']):.4f} is far above its reference {reference:.4f} "
        f"(95% interval [{interval[0]:.4f}, {interval[1]:.4f}] lies wholly above it)",
        "implausibly high: check the reference and the scorer before trusting it",
    )


def _spec_tests(evidence: Evidence) -> Category:
    run, waivers = evidence.run, evidence.waivers
    category = Category("spec_tests", enforced=True)
    judge = Judge(category, waivers)
    results = run.spec_tests
    if _judge_left_out(judge, run):
        return category
    if results is None:
        judge.blocker(
            "no_results",
            "spec_tests",
            _missing(run, "spec_tests/spec_tests.json", "spec_tests ran but wrote no results"),
        )
        return category
    if not results.get("complete", False):
        judge.blocker("incomplete", "spec_tests", "spec_tests/spec_tests.json is incomplete")
    checks = results.get("checks") or ()
    # the file's checks must be the ones its own summary counts, each once: a list edited
    # (a FAIL removed, a check copied) is not judged
    counts = {"passed": "PASS", "failed": "FAIL", "skipped": "SKIPPED", "errors": "ERROR"}
    said, listed, twice = _tally(checks, results.get("summary"), counts, "name")
    if said != listed or twice:
        found = ", ".join(f"{key} {value}" for key, value in listed.items())
        claimed = ", ".join(f"{key} {said.get(key)}" for key in counts) if said else "none"
        detail = (
            f"checks listed twice: {', '.join(twice)}"
            if twice
            else (f"its summary says {claimed}, its checks hold {found}")
        )
        judge.blocker(
            "summary_mismatch",
            "spec_tests/spec_tests.json",
            f"spec_tests/spec_tests.json does not agree with itself ({detail}): the spec tests "
            "are not judged",
        )
        return category
    for check in checks:
        _judge_spec_check(judge, check)
    return category


def _judge_spec_check(judge: Judge, check: Mapping[str, Any]) -> None:
    name, message = str(check.get("name")), str(check.get("message") or "")
    state = _readable_status(judge, check.get("status"), name, "spec check")
    if state is None:
        return
    if state is Status.PASS:
        judge.passed(name)
    elif state is Status.ERROR:
        judge.blocker(name, name, f"{name} errored: {message or 'no detail'}")
    elif state is Status.FAIL:
        judge.failed(name, name, f"{name}: {message or state.value}", name)
    else:
        judge.unjudged(name, name, f"{name} is {state.value}: {message or 'no detail'}", name)


def _stress_tests(evidence: Evidence) -> Category:
    stress = Category("stress_tests", enforced=True)
    judge = Judge(stress, evidence.waivers)
    _judge_left_out(judge, evidence.run)
    _judge_failed_requests(judge, evidence.run.stress)
    return stress


# Each workflow a release can run brings its judge here, in the release's order; a test holds
# this table to the release's children (workflows/workflow_release.py ORDER).
JUDGES: dict[str, Callable[[Evidence], Category]] = {
    "evals": _evals,
    "benchmarks": _benchmarks,
    "spec_tests": _spec_tests,
    "stress_tests": _stress_tests,
}
