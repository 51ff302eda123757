"""The table: one row per workload, dtype and implementation; ratios paired per round."""

from __future__ import annotations

import statistics
from typing import Any

import cnn
import sequence
from checks import EAGER_OF

NAME = 27  # width of the implementation column ("autograd_nn@base compiled")


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:9.2f} µs"


def _ratio(value: float | None, reference: float | None) -> str:
    return f"{value / reference:6.2f}×" if value and reference else "      –"


def print_report(results: dict[str, Any]) -> None:
    print()
    header = (
        f"{'workload':<30}{'dtype':<9}{'implementation':<{NAME}}{'time':>13}{'× numpy':>9}{'× torch':>9}"
        f"{'faults':>8}  note"
    )
    print(header)
    print("-" * len(header))
    for dtype, by_workload in results["results"].items():
        for workload, result in by_workload.items():
            if workload in ("B1", "B2", "B3"):
                _print_timed(workload, dtype, result)
            elif workload == "B4":
                _print_b4(dtype, result)
            elif workload == "B5":
                _print_b5(dtype, result)
            elif workload in sequence.WORKLOADS:
                sequence.print_rows(workload, dtype, result, paired_ratio)
            elif workload in cnn.WORKLOADS:
                cnn.print_rows(workload, dtype, result, paired_ratio)
        print()


def paired_ratio(row: dict[str, Any], reference: dict[str, Any] | None) -> float | None:
    """Median over rounds of (this sample / the reference's sample in the same round).

    Samples of one round ran back to back, so a burst of load from elsewhere on a shared
    machine inflates both; the per-round ratio cancels it better than a ratio of medians.
    """
    if not reference:
        return None
    return statistics.median(a / b for a, b in zip(row["samples"], reference["samples"]))


def _print_timed(workload: str, dtype: str, result: dict[str, Any]) -> None:
    rows = result["rows"]
    title = {
        "B1": "B1 op chain, per op (f+b)",
        "B2": "B2 56-200-1 sigmoid, step",
        "B3": "B3 784-512-512-10, step",
    }[workload]
    check = result["check"]
    for name, row in rows.items():
        notes = []
        if workload == "B3":
            notes.append(f"{row['gflops']:6.1f} GFLOP/s")
        if workload == "B1" and name == "numpy fwd":
            notes.append("forward only")
        if name == "numpy":
            notes.append("floor")
        if name in check["vs_floor"]:
            notes.append(f"agrees {check['vs_floor'][name]:.1e}")
        row["x_numpy"] = paired_ratio(row, rows["numpy"])
        row["x_torch"] = paired_ratio(row, rows.get("torch"))
        print(
            f"{title:<30}{dtype:<9}{name:<{NAME}}{_us(row['seconds']):>13}{_ratio(row['x_numpy'], 1):>9}"
            f"{_ratio(row['x_torch'], 1):>9}{row['faults']:8.1f}  {'  '.join(notes)}"
        )
        title = ""
    indent = " " * 39
    measure = "max |Δ δx|" if workload == "B1" else "max rel. diff. of the updates"
    worst = max(check["vs_floor"].values())
    print(f"{indent}(results agree to {worst:.1e}: {measure} vs the floor after {check['steps']} steps)")
    for compiled, difference in check["compiled_vs_eager"].items():
        extra = ""
        if compiled == "autograd_nn compiled":
            extra = f"; {check['replays']} of the {check['steps']} calls replayed"
            if check["eager_because"]:
                extra += f"; GAVE UP, ran eagerly: {check['eager_because']}"
        same = "bit for bit" if difference == 0 else f"to {difference:.1e}"
        if difference and compiled in check.get("compiled_vs_eager_abs", {}):
            same += f" (max |Δθ| {check['compiled_vs_eager_abs'][compiled]:.1e})"
        print(f"{indent}({compiled} = {EAGER_OF[compiled]} {same}, every call{extra})")
    tc = result.get("torch_compile")
    if tc and tc["ok"]:
        print(
            f"{indent}(torch.compile: compiled once for {dtype}, outside the timed rounds: "
            f"first call {tc['first_call_seconds']:.1f} s wall, second {tc['two_calls_seconds'] - tc['first_call_seconds']:.3f} s)"
        )
    elif tc:
        print(f"{indent}(torch.compile FAILED for {dtype}, not timed: {tc['why']})")


UNPACED = "autograd_nn, gc unpaced"  # the B4 row with autograd_nn.collector off (CPython's own schedule)


def _print_b4(dtype: str, result: dict[str, Any]) -> None:
    title = "B4 chain, per op"
    for impl in ("autograd_nn", UNPACED, "torch"):
        if impl not in result:
            continue
        for n, row in result[impl].items():
            peak = result["autograd_nn_traced_peak"].get(n) if impl == "autograd_nn" else None
            memory = f"traced peak {peak / 2**20:.0f} MiB ({peak / n:.0f} B/op)" if peak else ""
            rss = result["rss_peak"].get(impl)
            if rss and n == max(result[impl]):
                memory += f"{'; ' if memory else ''}RSS peak {rss / 2**20:.0f} MiB"
            print(
                f"{title:<30}{dtype:<9}{impl + f' N={n:.0e}':<32}"
                f"build {row['build']:.2f} + bwd {row['backward']:.2f} + free {row['free']:.2f} µs  {memory}"
            )
            title = ""
    ag = result["autograd_nn"]
    sizes = sorted(ag)
    if len(sizes) > 1:
        small, large = sizes[0], sizes[-1]
        per = lambda r: r["build"] + r["backward"] + r["free"]  # noqa: E731
        print(f"{'':<30}{'':<9}(per-op time N={large:.0e} / N={small:.0e}: {per(ag[large]) / per(ag[small]):.2f})")


def _print_b5(dtype: str, result: dict[str, Any]) -> None:
    traced, rss = result["traced"], result["rss_peak"]
    title = "B5 peak memory, B3 @4096"
    base = traced["numpy"]["step_peak"]
    live = traced["numpy"]["live_at_start"]
    rss_base = rss.get("numpy")
    for impl in ("numpy", "autograd_nn", "autograd_nn compiled", "autograd_nn@base", "torch"):
        if impl not in traced and impl not in rss:
            continue
        parts = []
        if impl in traced:
            # what the step holds above the parameters and the batch at its peak: its own
            # peak, plus what it keeps between steps (a compiled step's buffers)
            kept = traced[impl]["live_at_start"] - live
            total = traced[impl]["step_peak"] + kept
            traced[impl]["kept_and_peak"] = total
            kept_mib = kept / 2**20 if abs(kept) >= 2**16 else 0.0  # a few Python objects either way
            parts.append(
                f"traced {total / 2**20:6.1f} MiB {total / base:5.2f}× "
                f"(step {traced[impl]['step_peak'] / 2**20:5.1f} + kept {kept_mib:5.1f})"
            )
        if rss.get(impl) is not None:
            parts.append(f"RSS {rss[impl] / 2**20:6.1f} MiB {_ratio(rss[impl], rss_base).strip()}")
        print(f"{title:<30}{dtype:<9}{impl:<{NAME}}{'   '.join(parts)}")
        title = ""
    if "autograd_nn compiled" in traced:
        c = traced["autograd_nn compiled"]
        print(
            f"{' ' * 39}(compiled: measured on call {c['warmup_calls'] + 1}, after {c['warmup_calls']} warm-up calls "
            f"({c['recordings']} recorded, {c['replays'] - 1} replayed); its buffers are live at the start: kept; "
            "its RSS is the growth during a replay on the heap its recordings left)"
        )
