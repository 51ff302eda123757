"""How the shared property test draws arguments for the windowed ops (``shapes=`` callables).

Every window must fit, channels must divide into groups, and sizes stay tiny: the test
runs gradgradcheck, two first-derivative evaluations per element of every input and
of the cotangent. Hypothesis is a test-time dependency, imported inside each function.
"""

from __future__ import annotations

from typing import Any

Drawn = tuple[list[tuple[int, ...]], dict[str, Any]]


def _st() -> Any:
    from hypothesis import strategies as st

    return st


def _geometry(
    draw: Any, dims: int, *, dilation: bool = True, max_kernel: int = 3, crop: bool = False
) -> dict[str, Any]:
    """Kernel, stride, (before, after) padding and dilation per axis, and an input size they fit.

    ``crop``: the amount after may be −1 (the primitives' form of ``output_padding``).
    """
    st = _st()
    kernel, stride, padding, dilations, size = [], [], [], [], []
    for _ in range(dims):
        k = draw(st.integers(1, max_kernel if dims == 1 else 2))
        d = draw(st.integers(1, 2)) if dilation and k > 1 else 1
        lo, hi = draw(st.integers(0, 1)), draw(st.integers(-1 if crop else 0, 1))
        smallest = max(1 - min(hi, 0), d * (k - 1) + 1 - lo - hi)
        kernel.append(k)
        stride.append(draw(st.integers(1, 2)))
        padding.append((lo, hi))
        dilations.append(d)
        size.append(draw(st.integers(smallest, smallest + (2 if dims == 1 else 1))))
    return {
        "kernel": tuple(kernel), "stride": tuple(stride), "padding": tuple(padding), "dilation": tuple(dilations),
        "size": tuple(size),
    }  # fmt: skip


def _out(g: dict[str, Any]) -> tuple[int, ...]:
    """The number of window positions along each axis of the geometry ``g``."""
    return tuple(
        (n + lo + hi - d * (k - 1) - 1) // s + 1
        for n, k, s, (lo, hi), d in zip(g["size"], g["kernel"], g["stride"], g["padding"], g["dilation"])
    )


def _channels(draw: Any) -> tuple[int, int, int, int]:
    """(batch, groups, input channels per group, output channels per group), at most 2 channels in all."""
    st = _st()
    groups = draw(st.integers(1, 2))
    per_in = 1 if groups == 2 else draw(st.integers(1, 2))
    per_out = 1 if groups == 2 else draw(st.integers(1, 2))
    return draw(st.integers(1, 2)), groups, per_in, per_out


def _conv_case(draw: Any) -> tuple[dict[str, Any], int, int, int, int]:
    dims = draw(_st().integers(1, 2))
    return (_geometry(draw, dims, crop=True), *_channels(draw))


def convolution(draw: Any) -> Drawn:
    """x (N, C, *L), w (C_out, C/G, *k) and, half the time, b (C_out,)."""
    g, n, groups, per_in, per_out = _conv_case(draw)
    shapes = [(n, groups * per_in) + g["size"], (groups * per_out, per_in) + g["kernel"]]
    if draw(_st().booleans()):
        shapes.append((groups * per_out,))
    return shapes, {"stride": g["stride"], "padding": g["padding"], "dilation": g["dilation"], "groups": groups}


def convolution_transpose(draw: Any) -> Drawn:
    """δz (N, C_out, *out) and w of the convolution it transposes; ``size`` is that convolution's input."""
    g, n, groups, per_in, per_out = _conv_case(draw)
    shapes = [(n, groups * per_out) + _out(g), (groups * per_out, per_in) + g["kernel"]]
    if draw(_st().booleans()):
        shapes.append((groups * per_in,))
    params = {"stride": g["stride"], "padding": g["padding"], "dilation": g["dilation"], "groups": groups}
    return shapes, {"size": g["size"], **params}


def convolution_weight_grad(draw: Any) -> Drawn:
    """x (N, C, *L) and δz (N, C_out, *out); ``kernel`` is the weight's spatial shape."""
    g, n, groups, per_in, per_out = _conv_case(draw)
    shapes = [(n, groups * per_in) + g["size"], (n, groups * per_out) + _out(g)]
    params = {"stride": g["stride"], "padding": g["padding"], "dilation": g["dilation"], "groups": groups}
    return shapes, {"kernel": g["kernel"], **params}


def _public(draw: Any, values: tuple[int, ...]) -> Any:
    """A per-axis setting as users write it: one int when all axes agree (half the time), else a tuple."""
    if len(set(values)) == 1 and draw(_st().booleans()):
        return values[0]
    return values


def public_conv(dims: int) -> Any:
    """``conv1d``/``conv2d``'s arguments: symmetric int/tuple padding, or "same" / "valid"."""

    def draw_case(draw: Any) -> Drawn:
        st = _st()
        g = _geometry(draw, dims)
        n, groups, per_in, per_out = _channels(draw)
        mode = draw(st.sampled_from(["numbers", "same", "valid"]))
        if mode == "same":
            padding: Any = "same"
            g["stride"] = (1,) * dims
            g["size"] = tuple(max(n, 1) for n in g["size"])
        elif mode == "valid":
            padding = "valid"
            g["size"] = tuple(max(n, d * (k - 1) + 1) for n, k, d in zip(g["size"], g["kernel"], g["dilation"]))
        else:
            padding = _public(draw, tuple(lo for lo, _ in g["padding"]))
            pads = padding if isinstance(padding, tuple) else (padding,) * dims
            g["size"] = tuple(
                max(n, d * (k - 1) + 1 - 2 * p) for n, k, d, p in zip(g["size"], g["kernel"], g["dilation"], pads)
            )
        shapes = [(n, groups * per_in) + g["size"], (groups * per_out, per_in) + g["kernel"]]
        if draw(st.booleans()):
            shapes.append((groups * per_out,))
        params = {"stride": _public(draw, g["stride"]), "padding": padding, "dilation": _public(draw, g["dilation"])}
        return shapes, {**params, "groups": groups}

    return draw_case


def public_conv_transpose(dims: int) -> Any:
    """``conv_transpose1d``/``2d``'s arguments, with an output_padding below stride or dilation."""

    def draw_case(draw: Any) -> Drawn:
        st = _st()
        g = _geometry(draw, dims)
        n, groups, per_in, per_out = _channels(draw)
        pads = tuple(min(lo, hi) for lo, hi in g["padding"])
        sizes = tuple(draw(st.integers(1, 2 if dims == 2 else 3)) for _ in range(dims))
        extra = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(g["stride"], g["dilation"]))
        # the result must be at least one element long along every axis
        for n_in, k, s, d, p, e in zip(sizes, g["kernel"], g["stride"], g["dilation"], pads, extra):
            if (n_in - 1) * s - 2 * p + d * (k - 1) + e + 1 < 1:
                pads = tuple(0 for _ in pads)
        shapes = [(n, groups * per_out) + sizes, (groups * per_out, per_in) + g["kernel"]]
        if draw(st.booleans()):
            shapes.append((groups * per_in,))
        params = {"stride": _public(draw, g["stride"]), "padding": _public(draw, pads)}
        params.update(output_padding=_public(draw, extra), groups=groups, dilation=_public(draw, g["dilation"]))
        return shapes, params

    return draw_case
