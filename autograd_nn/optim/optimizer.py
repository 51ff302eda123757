"""``Optimizer``: parameter groups, per-parameter state, and its state_dict.

Updates work on raw arrays: ``param.data`` is changed in place (so the module, its
state_dict views and the optimizer keep seeing the same array) and state buffers are
plain ndarrays. As in PyTorch, step only after backward has run: the graph saves
references to the parameters' arrays.
"""

from __future__ import annotations

import copy
import functools
import inspect
import numbers
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from .. import _tracing, versions
from ..tensor import Tensor, clear_grad


class Optimizer:
    """Base class: holds ``param_groups`` (dicts with ``'params'`` and hyperparameters)
    and ``state`` (a dict keyed by parameter). Subclasses implement ``_update``.

    ``params`` is an iterable of parameters (``model.parameters()``), of ``(name, parameter)``
    pairs (``model.named_parameters()``: the names are kept in each group's
    ``'param_names'``), or of dicts for per-group options::

        SGD([{"params": model[0].parameters()}, {"params": model[2].parameters(), "lr": 0.01}], lr=0.1)

    A group's own entries override the constructor's; the constructor's fill in the rest.
    """

    # State entries that are counters, not arrays shaped like the parameter.
    _scalar_state: frozenset[str] = frozenset({"step"})

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]):
        self.defaults = defaults
        self.state: dict[Tensor, dict[str, Any]] = {}
        self.param_groups: list[dict[str, Any]] = []
        if isinstance(params, Tensor):
            raise TypeError(
                f"{type(self).__name__}: params must be an iterable of Tensors or dicts, got a single Tensor; "
                "pass [tensor] or model.parameters()"
            )
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        if not isinstance(groups[0], Mapping):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: Mapping[str, Any]) -> None:
        """Add a group of parameters with its own hyperparameters (defaults fill the rest)."""
        name = type(self).__name__
        if not isinstance(param_group, Mapping) or "params" not in param_group:
            raise TypeError(f"{name}: a parameter group must be a dict with a 'params' entry")
        group = dict(param_group)
        params = group["params"]
        if isinstance(params, (set, frozenset)):
            raise TypeError(
                f"{name}: parameters must come in an ordered collection (a list), not a set: a set's order changes "
                "between runs, and so would the optimizer's state_dict"
            )
        params = [params] if isinstance(params, Tensor) else list(params)
        named = [isinstance(p, tuple) for p in params]
        if any(named):  # model.named_parameters(): keep the names, as PyTorch does in 'param_names'
            if not all(named) or any(len(p) != 2 for p in params):
                raise ValueError(f"{name}: give every parameter of a group with its name, or none of them")
            group["param_names"] = [param_name for param_name, _ in params]
            params = [param for _, param in params]
        if self.param_groups and ("param_names" in group) != ("param_names" in self.param_groups[0]):
            raise ValueError(f"{name}: all parameter groups must be given with names (named_parameters()) or all without")
        for i, param in enumerate(params):
            if not isinstance(param, Tensor):
                raise TypeError(f"{name}: parameter {i} is a {type(param).__name__}, not a Tensor")
            if not param.is_leaf or not param.requires_grad:
                raise ValueError(
                    f"{name}: parameter {i} (shape {param.shape}) must be a leaf tensor with requires_grad=True"
                )
        group["params"] = params
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if len({id(p) for p in params}) != len(params) or any(id(p) in seen for p in params):
            raise ValueError(f"{name}: some parameters appear more than once (in one group or across groups)")
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of all parameters: ``None`` (default) or zeros in place."""
        for group in self.param_groups:
            for param in group["params"]:
                clear_grad(param, set_to_none)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; returns ``closure()`` if given.

        ``closure`` re-computes and returns the loss (it runs before the update, in the
        current grad mode).
        """
        loss = closure() if closure is not None else None
        recording = _tracing.recording() is not None
        written: list[np.ndarray] = []
        # (read once: this loop runs for every parameter of every step)
        states, update, takes_numbers = self.state, self._update, self._takes_numbers
        inits_state, group_numbers = self._inits_state, self._group_numbers
        try:
            for index, group in enumerate(self.param_groups):
                shared = None
                for param in group["params"]:
                    holder = param._grad  # (the slot behind .grad)
                    if holder is None:
                        continue
                    data, grad = param.data, holder.data
                    if grad.shape != data.shape:
                        raise ValueError(
                            f"{type(self).__name__}.step: a parameter in group {index} has shape {data.shape} "
                            f"but its .grad has shape {grad.shape}"
                        )
                    state = states.get(param)
                    if state is None:
                        state = states[param] = {}
                    if not takes_numbers:  # a rule written as _update(param, grad, group, state)
                        if recording:
                            _tracing.refuse(
                                f"{type(self).__name__}._update(param, grad, group, state)",
                                "a replay cannot follow the Python numbers such a rule keeps; write it as "
                                "_numbers(group, state) and _update(param, grad, group, state, numbers) (see "
                                "docs/custom_layers.md)",
                            )
                        update(data, grad, group, state)  # type: ignore[call-arg]
                    elif recording:
                        _recorded_step(self, data, grad, group, state)
                    else:
                        if not state and inits_state:
                            self._init_state(data, group, state)
                        if group_numbers and "step" not in state:
                            if shared is None:
                                shared = self._numbers(group, state)
                                shared_advance = self._advances(shared)
                            numbers, advance = shared, shared_advance
                        else:  # (numbers of its own carry the parameter's step count: advanced)
                            numbers, advance = self._numbers(group, state), True
                        update(data, grad, group, state, numbers)
                        if advance:
                            self._advance(state, numbers)
                    written.append(data)
        finally:
            # Written in place: graphs that saved a parameter must not backpropagate through it.
            # One stamp for the whole step (what it wrote, also if a later parameter raised).
            if written:
                versions.note_writes(*written)
        if recording:
            _guard_settings(self)
        return loss

    # A step in four parts, so that a compiled training step (``autograd_nn.compile``) can replay it:
    # ``_init_state`` makes a parameter's state on its first step; ``_numbers`` computes the Python
    # numbers of the next step (a step size, a bias correction, the step count) from the
    # hyperparameters and the state's numbers, and nothing else, so a replay recomputes them on
    # every call and follows a learning-rate schedule; ``_update`` does the array arithmetic in place
    # with them (its ``group`` lacks the entries in ``_per_step``, which only ``_numbers`` may read);
    # ``_advance`` writes the numbers back into the state (step += 1).
    # Besides lr, a rule may follow "momentum" (SGD's, RMSprop's) or "betas" (Adam's) that way:
    # the schedules that cycle them (OneCycleLR) then replay; ``_followed`` gives their numbers.
    _per_step: frozenset[str] = frozenset({"lr"})
    _takes_numbers = True
    # The base rule's numbers read the group and the state's step count: with no count in the
    # state (plain SGD), they are the group's, computed once for all its parameters.
    _group_numbers = True

    # Whether the rule keeps state it makes on a parameter's first step (else, as plain SGD's
    # empty state, ``_init_state`` is not called on every step).
    _inits_state = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._takes_numbers = len(inspect.signature(cls._update).parameters) >= 6
        cls._group_numbers = cls._numbers is Optimizer._numbers
        cls._inits_state = cls._init_state is not Optimizer._init_state

    def _advances(self, numbers: dict[str, Any]) -> bool:
        """Whether ``_advance`` has anything to write back after a step with ``numbers``."""
        return type(self)._advance is not Optimizer._advance or not self._scalar_state.isdisjoint(numbers)

    def _init_state(self, param: np.ndarray, group: dict[str, Any], state: dict[str, Any]) -> None:
        """A parameter's state before its first step (nothing, unless the rule keeps some)."""

    def _numbers(self, group: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
        """The Python numbers of this parameter's next step; reads, never writes."""
        numbers: dict[str, Any] = {"lr": group["lr"]}
        if "step" in state:
            numbers["step"] = state["step"] + 1
        if len(self._per_step) > 1:
            numbers.update(self._followed(group))
        return numbers

    def _followed(self, group: dict[str, Any]) -> dict[str, Any]:
        """The numbers ``_update`` reads of the per-step hyperparameters besides lr: ``momentum``,
        and β₁, β₂, 1 − β₁ and 1 − β₂ of ``betas`` (computed here: a replay recomputes them).
        While a step is recorded, ``_update``'s ``group["momentum"]`` says only whether there is
        one (a bool, guarded): a rule branches on it and computes with ``numbers["momentum"]``."""
        numbers: dict[str, Any] = {}
        if "momentum" in self._per_step:
            numbers["momentum"] = group["momentum"]
        if "betas" in self._per_step:
            beta1, beta2 = group["betas"]
            numbers.update(beta1=beta1, beta2=beta2, one_minus_beta1=1 - beta1, one_minus_beta2=1 - beta2)
        return numbers

    def _update(
        self, param: np.ndarray, grad: np.ndarray, group: dict[str, Any], state: dict[str, Any], numbers: dict[str, Any]
    ) -> None:
        raise NotImplementedError

    def _advance(self, state: dict[str, Any], numbers: dict[str, Any]) -> None:
        """The state's numbers after the step: each ``_scalar_state`` entry the numbers carry."""
        for key in self._scalar_state:
            if key in numbers:
                state[key] = numbers[key]

    # ------------------------------------------------------------- state dict
    def _params(self) -> list[Tensor]:
        return [p for group in self.param_groups for p in group["params"]]

    def state_dict(self) -> dict[str, Any]:
        """``{'state': {index: {...}}, 'param_groups': [{..., 'params': [indices]}]}``, PyTorch's layout.

        Parameters are referred to by their position across all groups. State arrays are
        shared with the optimizer, not copied (as in PyTorch).
        """
        index = {id(p): i for i, p in enumerate(self._params())}
        groups = [
            {**{k: v for k, v in group.items() if k != "params"}, "params": [index[id(p)] for p in group["params"]]}
            for group in self.param_groups
        ]
        # a parameter whose rule keeps nothing (SGD without momentum) has no entry, as in PyTorch
        state = {index[id(p)]: dict(s) for p, s in self.state.items() if id(p) in index and s}
        return {"state": dict(sorted(state.items())), "param_groups": groups}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore state and hyperparameters saved by ``state_dict()`` (or read by ``load``).

        The checkpoint must have the same groups with the same number of parameters, and
        each state array the shape of its parameter; otherwise nothing changes and the
        error names the first mismatch.
        """
        name = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, Mapping) or not {"state", "param_groups"} <= set(state_dict):
            raise ValueError(f"{name}: expected a dict with 'state' and 'param_groups', as state_dict() returns")
        saved_groups = list(state_dict["param_groups"])
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}: the checkpoint has {len(saved_groups)} parameter group(s), this optimizer has "
                f"{len(self.param_groups)}"
            )
        by_index: dict[int, Tensor] = {}
        for g, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            saved_params = list(saved.get("params", ()))
            if len(saved_params) != len(group["params"]):
                raise ValueError(
                    f"{name}: group {g} has {len(saved_params)} parameter(s) in the checkpoint but "
                    f"{len(group['params'])} here (a checkpoint of another model?)"
                )
            by_index.update(zip((int(i) for i in saved_params), group["params"]))
        new_state: dict[Tensor, dict[str, Any]] = {}
        for key, entries in state_dict["state"].items():
            index = int(key)
            if index not in by_index:
                raise ValueError(f"{name}: state for parameter {index}, which no parameter group lists")
            param = by_index[index]
            restored: dict[str, Any] = {}
            for entry, value in entries.items():
                if entry in self._scalar_state:
                    restored[entry] = np.asarray(value.data if isinstance(value, Tensor) else value).item()
                    continue
                # asarray first: it reads foreign arrays (torch tensors) without numpy 2's copy= protocol
                array = np.array(np.asarray(value.data if isinstance(value, Tensor) else value), dtype=param.dtype)
                if array.shape != param.shape:
                    raise ValueError(
                        f"{name}: state[{index}][{entry!r}] has shape {array.shape} but parameter {index} "
                        f"has shape {param.shape}"
                    )
                restored[entry] = array
            new_state[param] = restored
        for group, saved in zip(self.param_groups, saved_groups):
            params = group["params"]
            group.clear()
            group.update(copy.deepcopy({k: v for k, v in saved.items() if k != "params"}))
            group["params"] = params
        self.state = new_state

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params")
        return "\n".join(lines) + "\n)"


def _check(name: str, **values: float) -> None:
    for key, value in values.items():
        # numbers.Real, so numpy scalars (np.float32(0.01)) pass; bool is excluded.
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not value >= 0:
            raise ValueError(f"{name}: invalid {key} {value!r}; it must be a number ≥ 0")


def _recorded_step(
    optimizer: Optimizer, param: np.ndarray, grad: np.ndarray, group: dict[str, Any], state: dict[str, Any]
) -> None:
    """One parameter's step while a compiled function records it (``autograd_nn.compile``).

    The numbers come from ``_numbers`` through the recording (a replay recomputes them),
    the state's arrays are watched, new ones are handed over as state that outlives the
    call, and the hyperparameters and the state's layout become guards: change one, and
    the next call records again.
    """
    name = type(optimizer).__name__
    fixed = {k: v for k, v in group.items() if k not in optimizer._per_step}
    if "momentum" in optimizer._per_step:  # its value is followed; whether there is one is structure
        fixed["momentum"] = group["momentum"] > 0
    view = {k: _tracing.state_array(v, f"{name} state {k!r}") for k, v in state.items()}
    if not state:  # (whether there is a momentum is the rule's structure, guarded below: the whole group)
        optimizer._init_state(param, group, view)
        _hand_over(state, view, {})
    # (the state's keys are guarded: a step count appearing records again)
    share = id(group) if optimizer._group_numbers and "step" not in state else None
    numbers = _tracing.numbers(functools.partial(optimizer._numbers, group, state), f"{name}.step", id(state), share)
    before = dict(view)
    optimizer._update(param, grad, fixed, view, numbers)
    _hand_over(state, view, before)
    # (the base _advance writes back only the state's numbers the step carries: with none, nothing to replay)
    if optimizer._advances(numbers):
        _tracing.effect(functools.partial(optimizer._advance, state), numbers)


def _guard_settings(optimizer: Optimizer) -> None:
    """A recorded step is replayed only while the parameter groups (the parameters each holds,
    in order, and the hyperparameters but the per-step ones, which the numbers recompute) and
    the layout of the state stay as the step left them: two guards for the whole optimizer,
    not two per parameter, cheap (they run before every replay)."""
    name = type(optimizer).__name__
    unread = dict.fromkeys(optimizer._per_step)  # what the guard leaves out, masked as None
    # (a momentum is followed, but whether there is one decides the calls a step makes)
    momentum = "momentum" in optimizer._per_step
    held: tuple[list[tuple[int, str]], list[list[Tensor]]] | None = None

    def param_groups() -> list[dict[str, Any]]:
        nonlocal held
        # A parameter removed, added, moved to another group or reordered changes the ids; a new
        # list of the same parameters does not.
        groups = [{**group, **unread, "params": tuple(map(id, group["params"]))} for group in optimizer.param_groups]
        if momentum:
            for group, read in zip(groups, optimizer.param_groups):
                group["momentum"] = read["momentum"] > 0
        if held is None:  # the first read, as the recording ends
            mutable = [(i, k) for i, group in enumerate(groups) for k, v in group.items() if _frozen(v) is not v]
            # (the parameters are held so that, while the program lives, their ids cannot pass to new objects)
            held = mutable, [list(group["params"]) for group in optimizer.param_groups]
        # A list kept in a group (betas from a JSON checkpoint) and changed in place must differ
        # from the value the guard kept, which a shallow copy shares: the guard keeps it frozen.
        # (Any other entry that becomes mutable is a new object, unequal to the one kept.)
        for i, k in held[0]:
            if i < len(groups) and k in groups[i]:
                groups[i][k] = _frozen(groups[i][k])
        return groups

    def layout() -> list[Any]:  # each state's keys and array objects (or kinds of number); load_state_dict replaces .state
        return [
            (id(state), k, id(v) if isinstance(v, np.ndarray) else type(v))
            for state in optimizer.state.values()
            for k, v in state.items()
        ]

    _tracing.guard(f"the param_groups of {name} (their parameters or hyperparameters)", param_groups)
    _tracing.guard(f"the state of {name}", layout)


_CONTAINERS = frozenset({list, tuple, dict, set})


def _frozen(value: Any) -> Any:
    """``value`` with every list, tuple and dict in it made a tuple and every set a frozenset,
    at any depth: equal to the original's frozen form until something in it changes. What
    nothing can change (a number, a tuple of numbers) is returned as it is."""
    kind = type(value)
    if kind is list or kind is tuple:
        if _CONTAINERS.isdisjoint(map(type, value)):  # (the common case: a tuple made in C, or none)
            return value if kind is tuple else tuple(value)
    elif kind is set:  # (its elements are hashable: nothing in them to freeze)
        return frozenset(value)
    elif kind is not dict:
        return value
    # Nested containers: frozen innermost first, with a stack of our own (nothing in the package
    # recurses). A container met again on its own path (one holding itself) stands as ``...``.
    frozen: dict[int, Any] = {}

    def of(v: Any) -> Any:
        if type(v) is set:
            return frozenset(v)
        return frozen.get(id(v), ...) if type(v) in _CONTAINERS else v

    stack, on_path = [value], {id(value)}
    while stack:
        top = stack[-1]
        items = top.values() if type(top) is dict else top
        inner = [
            v for v in items
            if type(v) in _CONTAINERS and type(v) is not set and id(v) not in frozen and id(v) not in on_path
        ]  # fmt: skip
        if inner:
            stack.extend(inner)
            on_path.update(map(id, inner))
            continue
        stack.pop()
        on_path.discard(id(top))
        frozen[id(top)] = tuple((k, of(v)) for k, v in top.items()) if type(top) is dict else tuple(map(of, top))
    return frozen[id(value)]


def _hand_over(state: dict[str, Any], view: dict[str, Any], before: dict[str, Any]) -> None:
    """Entries ``_init_state`` or ``_update`` added or replaced go into the real state."""
    for key, value in view.items():
        if before.get(key) is not value:
            _tracing.store(state, key, value)


def _check_betas(name: str, betas: Any) -> tuple[float, float]:
    """Adam-style (β₁, β₂), each in [0, 1), as a tuple."""
    betas = tuple(betas)
    if len(betas) != 2 or not all(
        isinstance(b, numbers.Real) and not isinstance(b, (bool, np.bool_)) and 0 <= b < 1 for b in betas
    ):
        raise ValueError(f"{name}: betas must be two numbers in [0, 1), got {betas!r}")
    return betas  # type: ignore[return-value]


def lerp_numbers(weight: float) -> dict[str, Any]:
    """For ``_lerp_`` with a weight a step's numbers carry: which formula (True/False, which a
    replay checks), and 1 − weight."""
    return {"lerp_small": abs(weight) < 0.5, "lerp_rest": 1 - weight}


def _lerp_(start: np.ndarray, end: np.ndarray, weight: float, numbers: dict[str, Any] | None = None) -> None:
    """start ← start + weight · (end − start), in place, with PyTorch's two formulas for
    ``lerp_`` (the one from ``end`` for weight ≥ 0.5 keeps the result exact at weight 1).
    ``numbers``: a step's, with ``lerp_numbers(weight)`` among them."""
    difference = end - start
    small, rest = (abs(weight) < 0.5, 1 - weight) if numbers is None else (numbers["lerp_small"], numbers["lerp_rest"])
    if small:
        difference *= weight
        start += difference
    else:
        difference *= rest
        np.subtract(end, difference, out=start)


def _gradient(param: np.ndarray, grad: np.ndarray, group: dict[str, Any], numbers: dict[str, Any]) -> np.ndarray:
    """g = ±∇θ (``maximize``) plus weight_decay · θ, PyTorch's L2 term, shared by every rule;
    with ``decoupled_weight_decay`` (AdamW's rule) θ ← θ · ``numbers["decay"]`` in place instead.
    A g that differs from ``grad`` is a new array, so rules may combine into it in place."""
    if group["maximize"]:
        grad = -grad
    weight_decay = group["weight_decay"]
    if weight_decay != 0:
        if group.get("decoupled_weight_decay"):
            param *= numbers["decay"]
        else:
            grad = grad + weight_decay * param
    return grad
