"""Deliberate bugs where nn, optim and viz meet the rebuilt core (version counters, zeroed
gradients, the read-only sweep): (id, file, old text, new text, tests, why)."""

from __future__ import annotations

NN = ("tests/nn",)
OPTIM = ("tests/optim",)
VIZ = ("tests/viz",)
WALK = "autograd_nn/viz/_walk.py"

MUTATIONS = [
    ("nn-linear-registry-read-for-subclasses", "autograd_nn/nn/linear.py",
     '        if type(self) is Linear and "weight" in parameters and "bias" in parameters:',
     '        if "weight" in parameters and "bias" in parameters:', NN,
     "a Linear subclass that computes its weight (a mask, a parametrisation) trains the raw weight instead"),
    ("optim-step-version-not-bumped", "autograd_nn/optim/optimizer.py",
     "                    written.append(data)", "                    pass",
     (*OPTIM, "tests/core/test_inplace.py"),
     "a graph recorded before optimizer.step() backpropagates through the new weights silently"),
    ("optim-step-failed-part-not-stamped", "autograd_nn/optim/optimizer.py",
     "        finally:\n            # Written in place",
     "        except BaseException:\n            written.clear()\n            raise\n        finally:\n            # Written in place",
     OPTIM, "a step stopped by a later parameter's bad .grad leaves the earlier ones written but unstamped"),
    ("optim-step-numbers-shared-across-groups", "autograd_nn/optim/optimizer.py",
     "            for index, group in enumerate(self.param_groups):\n                shared = None\n",
     "            shared = None\n            for index, group in enumerate(self.param_groups):\n", OPTIM,
     "every group's parameters step with the first group's learning rate (plain SGD)"),
    ("optim-zero-grad-version-not-bumped", "autograd_nn/tensor.py",
     "        grad.data[...] = 0\n        grad._increment_version()", "        grad.data[...] = 0", NN + OPTIM,
     "zero_grad(set_to_none=False), the model's or the optimizer's, zeroes a .grad that a graph saved, unnoticed"),
    ("optim-zero-grad-writes-recorded-grad", "autograd_nn/tensor.py",
     "    if grad.grad_fn is not None or not grad.data.flags.writeable:", "    if False:", OPTIM,
     "optimizer.zero_grad() writes zeros into a .grad that is part of a graph (create_graph)"),
    ("nn-load-state-dict-version-not-bumped", "autograd_nn/nn/_state.py",
     "        targets[key]._increment_version()  # a graph recorded before the load",
     "        pass  # a graph recorded before the load", (*NN, "tests/core/test_inplace.py"),
     "a graph recorded before load_state_dict backpropagates through the loaded weights"),
    ("nn-init-version-not-bumped", "autograd_nn/nn/init.py",
     "    tensor._increment_version()  # a graph that saved the old values", "    pass  # a graph that saved the old values",
     NN, "re-initialising a weight in place leaves graphs that saved it usable"),
    ("nn-declared-name-only-parameters", "autograd_nn/nn/_declared.py",
     "        return parameters[name] if name in parameters else module.__getattr__(name)",
     "        return parameters[name]", ("tests/nn/test_declared_names.py",),
     "a layer's declared name no longer finds a buffer or sub-module put under it, nor names a deleted one"),
    ("nn-declared-name-data-descriptor", "autograd_nn/nn/_declared.py",
     '    __slots__ = ("name",)\n',
     '    __slots__ = ("name",)\n\n    def __set__(self, module: Any, value: Any) -> None:\n'
     "        module.__dict__[self.name] = value\n", ("tests/nn/test_declared_names.py",),
     "a tensor set after del layer.bias is no longer what layer.bias (and forward) reads"),
    ("viz-index-latest-first", WALK,
     "        nodes.sort(key=lambda n: order[id(n)])", "        nodes.sort(key=lambda n: order[id(n)], reverse=True)", VIZ,
     "the ops are numbered from the loss back, so a picture's ids change with the graph's size"),
    ("viz-freed-graph-shows-nothing", WALK,
     "    of = {id(leaf): leaf.grad.data for leaf in index.leaves if leaf.grad is not None}", "    of = {}", VIZ,
     "after backward freed the graph, the picture forgets the leaves' .grad"),
    ("viz-freed-state-unsaid", WALK,
     '        grads.state = "freed"', '        grads.state = "stored"', VIZ,
     "a freed graph is drawn as if backward had simply not run"),
    ("viz-root-leaf-has-no-delta", WALK,
     "    for key, (_, g) in leaf_grads.items():  # a root that is itself a leaf is among them, with its seed\n        of[key] = np.asarray(g)",
     "    for key, (_, g) in leaf_grads.items():  # a root that is itself a leaf is among them, with its seed\n        of[key] = np.asarray(g) if key != id(root) else None", VIZ,
     "drawing the backward view of a leaf shows no δ for it"),
    ("viz-seed-dtype-kept", WALK,
     "    seed = np.asarray(gradient.data if isinstance(gradient, Tensor) else gradient, dtype=root.dtype)",
     "    seed = np.asarray(gradient.data if isinstance(gradient, Tensor) else gradient)", VIZ,
     "an integer gradient= is swept as integers (δ truncated)"),
]  # fmt: skip
