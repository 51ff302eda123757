"""How the shared property test draws arguments for the pooling and resampling ops
(``shapes=`` callables): windows that fit, padding at most half a kernel, tiny sizes."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._draw import Drawn, _out, _public, _st  # shared with the convolutions' drawings


def _windows(draw: Any, dims: int, *, dilation: bool, ceil: bool = False) -> dict[str, Any]:
    """Per axis: kernel, stride, padding ≤ kernel/2 (plus a ceil-mode overhang), dilation, input size."""
    st = _st()
    g: dict[str, list[Any]] = {"kernel": [], "stride": [], "padding": [], "dilation": [], "size": []}
    for _ in range(dims):
        k = draw(st.integers(1, 3 if dims == 1 else 2))
        d = draw(st.integers(1, 2)) if dilation and k > 1 else 1
        p = draw(st.integers(0, k // 2))
        s = draw(st.integers(1, 2))
        smallest = max(1, d * (k - 1) + 1 - 2 * p)
        n = draw(st.integers(smallest, smallest + (2 if dims == 1 else 1)))
        overhang = draw(st.integers(0, s - 1)) if ceil else 0
        if not _every_window_reads_input(n, k, s, (p, p + overhang), d):
            d, overhang = 1, 0  # as PyTorch, a window of padding alone is not a valid pooling
        for key, value in zip(g, (k, s, (p, p + overhang), d, n)):
            g[key].append(value)
    return {key: tuple(values) for key, values in g.items()}


def _every_window_reads_input(n: int, k: int, s: int, padding: tuple[int, int], d: int) -> bool:
    lo, hi = padding
    windows = (n + lo + hi - d * (k - 1) - 1) // s + 1
    return all(any(lo <= o * s + j * d < lo + n for j in range(k)) for o in range(windows))


def _lead(draw: Any) -> tuple[int, int]:
    st = _st()
    return draw(st.integers(1, 2)), draw(st.integers(1, 2))


def max_pool(draw: Any) -> Drawn:
    g = _windows(draw, draw(_st().integers(1, 2)), dilation=True, ceil=True)
    return [_lead(draw) + g["size"]], {k: g[k] for k in ("kernel", "stride", "padding", "dilation")}


def _divisor(out: tuple[int, ...]) -> np.ndarray:
    """One positive divisor per window (a different one each, so a mix-up shows)."""
    return np.arange(1.0, math.prod(out) + 1).reshape(out) / 2


def avg_pool(draw: Any) -> Drawn:
    g = _windows(draw, draw(_st().integers(1, 2)), dilation=False, ceil=True)
    params = {k: g[k] for k in ("kernel", "stride", "padding")}
    return [_lead(draw) + g["size"]], {**params, "divisor": _divisor(_out(g))}


def avg_pool_adjoint(draw: Any) -> Drawn:
    g = _windows(draw, draw(_st().integers(1, 2)), dilation=False, ceil=True)
    params = {k: g[k] for k in ("kernel", "stride", "padding")}
    out = _out(g)
    return [_lead(draw) + out], {"size": g["size"], **params, "divisor": _divisor(out)}


def _index(draw: Any, lead: tuple[int, ...], size: tuple[int, ...], out: tuple[int, ...]) -> np.ndarray:
    area = math.prod(size)
    values = draw(
        _st().lists(_st().integers(0, area - 1), min_size=math.prod(lead + out), max_size=math.prod(lead + out))
    )
    return np.array(values, dtype=np.int64).reshape(lead + out)


def _plane(draw: Any) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """(lead, lead of the index: the same or broadcast, plane size, index shape per plane)."""
    st = _st()
    dims = draw(st.integers(1, 2))
    lead = _lead(draw)
    size = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    out = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    index_lead = (1, 1) if draw(st.booleans()) else lead
    return lead, index_lead, size, out


def plane_gather(draw: Any) -> Drawn:
    lead, index_lead, size, out = _plane(draw)
    return [lead + size], {"index": _index(draw, index_lead, size, out), "dims": len(size)}


def plane_scatter(draw: Any) -> Drawn:
    lead, index_lead, size, out = _plane(draw)
    return [lead + out], {"index": _index(draw, index_lead, size, out), "size": size}


def _public_pool(draw: Any, dims: int, *, dilation: bool) -> tuple[tuple[int, ...], dict[str, Any]]:
    st = _st()
    g = _windows(draw, dims, dilation=dilation)
    ceil_mode = draw(st.booleans())
    if ceil_mode and not all(
        _every_window_reads_input(n, k, s, (lo, lo + s - 1), d)
        for n, k, s, (lo, _), d in zip(g["size"], g["kernel"], g["stride"], g["padding"], g["dilation"])
    ):
        ceil_mode = False  # keep every window on the input (a window of padding alone is invalid)
    stride = None if g["stride"] == g["kernel"] and draw(st.booleans()) else _public(draw, g["stride"])
    params = {"kernel_size": _public(draw, g["kernel"]), "stride": stride, "ceil_mode": ceil_mode}
    params["padding"] = _public(draw, tuple(lo for lo, _ in g["padding"]))
    if dilation:
        params["dilation"] = _public(draw, g["dilation"])
    return _lead(draw) + g["size"], params


def public_max_pool(dims: int) -> Any:
    def draw_case(draw: Any) -> Drawn:
        shape, params = _public_pool(draw, dims, dilation=True)
        return [shape], params

    return draw_case


def public_avg_pool(dims: int) -> Any:
    def draw_case(draw: Any) -> Drawn:
        st = _st()
        shape, params = _public_pool(draw, dims, dilation=False)
        params["count_include_pad"] = draw(st.booleans())
        if dims == 2:
            params["divisor_override"] = draw(st.sampled_from([None, None, 3]))
        return [shape], params

    return draw_case


def adaptive(dims: int, *, batched_only: bool = False) -> Any:
    """An input and an output size: dividing it evenly or not, None entries now and then."""

    def draw_case(draw: Any) -> Drawn:
        st = _st()
        size = tuple(draw(st.integers(1, 5 if dims == 1 else 4)) for _ in range(dims))
        out = tuple(draw(st.sampled_from([*([None] if dims == 2 else []), *range(1, n + 2)])) for n in size)
        lead = _lead(draw) if batched_only or draw(st.booleans()) else _lead(draw)[:1]
        output_size: Any = out[0] if dims == 1 else out
        return [lead + size], {"output_size": output_size}

    return draw_case


def adaptive_max(draw: Any) -> Drawn:
    """The AdaptiveMaxPool op's cases: adaptive_max_pool2d's, None entries resolved."""
    shapes, params = adaptive(2, batched_only=True)(draw)
    spatial = shapes[0][-2:]
    return shapes, {"output_size": tuple(n if o is None else o for o, n in zip(params["output_size"], spatial))}


def interpolate(draw: Any) -> Drawn:
    """A mode that fits the input's rank, and a size or a scale factor (up or down)."""
    st = _st()
    dims = draw(st.integers(1, 2))
    mode = draw(st.sampled_from(["nearest", "area", "linear" if dims == 1 else "bilinear"]))
    spatial = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    params: dict[str, Any] = {"mode": mode}
    if draw(st.booleans()):
        params["size"] = tuple(draw(st.integers(1, 4)) for _ in range(dims))
    else:
        factors = draw(st.sampled_from([1.5, 2.0, 0.7, 2.5]))
        spatial = tuple(max(n, 2) for n in spatial)  # every scaled size at least 1
        params["scale_factor"] = factors
        params["recompute_scale_factor"] = draw(st.sampled_from([None, True]))
    if mode in ("linear", "bilinear"):
        params["align_corners"] = draw(st.booleans())
    return [_lead(draw) + spatial], params


def pixel_shuffle(draw: Any) -> Drawn:
    st = _st()
    r = draw(st.integers(1, 2))
    lead = (draw(st.integers(1, 2)),) if draw(st.booleans()) else ()
    shape = lead + (draw(st.integers(1, 2)) * r * r, draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    return [shape], {"upscale_factor": r}


def pixel_unshuffle(draw: Any) -> Drawn:
    st = _st()
    r = draw(st.integers(1, 2))
    lead = (draw(st.integers(1, 2)),) if draw(st.booleans()) else ()
    shape = lead + (draw(st.integers(1, 2)), draw(st.integers(1, 2)) * r, draw(st.integers(1, 2)) * r)
    return [shape], {"downscale_factor": r}


def dropout2d(draw: Any) -> Drawn:
    st = _st()
    spatial = tuple(draw(st.integers(1, 2)) for _ in range(draw(st.integers(1, 2))))
    return [_lead(draw) + spatial], {}


def _offsets(draw: Any, shape: tuple[int, ...], kernel: tuple[int, ...]) -> np.ndarray:
    count = math.prod(shape)
    values = draw(_st().lists(_st().integers(0, math.prod(kernel) - 1), min_size=count, max_size=count))
    return np.array(values, dtype=np.uint8).reshape(shape)


def window_scatter(draw: Any) -> Drawn:
    g = _windows(draw, draw(_st().integers(1, 2)), dilation=True, ceil=True)
    out = _lead(draw) + _out(g)
    params = {k: g[k] for k in ("size", "kernel", "stride", "padding", "dilation")}
    return [out], {"arg": _offsets(draw, out, g["kernel"]), **params}


def window_gather(draw: Any) -> Drawn:
    g = _windows(draw, draw(_st().integers(1, 2)), dilation=True, ceil=True)
    lead = _lead(draw)
    params = {k: g[k] for k in ("kernel", "stride", "padding", "dilation")}
    return [lead + g["size"]], {"arg": _offsets(draw, lead + _out(g), g["kernel"]), **params}
