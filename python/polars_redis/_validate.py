"""Argument checking for every public function, from its own annotations.

``@checked`` binds a call's arguments to the function's signature and checks
each one against its annotation (keyword options given through
``**options: Unpack[SomeOptions]`` against that TypedDict's annotations), so
a mistake is an :class:`InvalidInputError` naming the function, the
parameter, the type expected and what was given, before any work starts:

* a value of the wrong type (``batch_size="100"``, ``url=None``, a ``str``
  where a list of keys is expected) raises :class:`ArgumentTypeError`, which
  is also a ``TypeError``;
* a value outside a ``Literal``'s choices, an unknown keyword (naming the
  closest valid one) or a missing argument raises it too, as Python would
  raise ``TypeError`` there; a ``Literal`` mismatch of the right type raises
  :class:`InvalidInputError` (a ``ValueError``).

Annotations are strings (``from __future__ import annotations``); they are
read with :mod:`ast` and evaluated name by name in the function's module, so
``X | None`` works on every supported Python. Size bounds and other value
rules are the core's, checked when the call reaches it.
"""

from __future__ import annotations

import ast
import builtins
import collections.abc as abc
import difflib
import functools
import inspect
import sys
import typing
from dataclasses import dataclass
from typing import Any, Callable, Literal, TypeVar, Union

from polars_redis._logging import refresh_levels
from polars_redis.exceptions import ArgumentTypeError, InvalidInputError

F = TypeVar("F", bound=Callable[..., Any])

_NONE = type(None)


@dataclass(frozen=True)
class _Unpacked:
    """``Unpack[TypedDict]``: the keyword options ``**options`` accepts."""

    options: Any


def checked(function: F) -> F:
    """Check every call of ``function`` against its signature's annotations
    (and refresh the core's log levels: every public call starts here)."""
    rules = _Rules(function)

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        rules.check(args, kwargs)
        refresh_levels()
        return function(*args, **kwargs)

    return typing.cast(F, wrapper)


def check_forwarded(name: str, function: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Check a call of ``function`` as ``@checked`` does, naming ``name`` in the
    errors: for a public function ``name`` that forwards its options to it."""
    _Rules(function, name).check(args, kwargs)


class Parameters:
    """A signature, laid out to bind calls fast: :meth:`arguments` is
    ``signature.bind(...).arguments`` without the per-call work of
    :meth:`inspect.Signature.bind` for the usual call (names and positions
    that fit), and defers to it for anything else (which also raises its
    ``TypeError``)."""

    def __init__(self, signature: inspect.Signature) -> None:
        self.signature = signature
        kinds = {p.kind for p in signature.parameters.values()}
        self._simple = not kinds & {
            inspect.Parameter.POSITIONAL_ONLY,
            inspect.Parameter.VAR_POSITIONAL,
        }
        parameters = signature.parameters.values()
        var = [p.name for p in parameters if p.kind is inspect.Parameter.VAR_KEYWORD]
        self._var_keyword = var[0] if var else None
        self._order = tuple(signature.parameters)
        self._positional = tuple(
            p.name for p in parameters if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
        )
        self._named = frozenset(p.name for p in parameters if p.name not in var)
        self._required = tuple(
            p.name for p in parameters if p.default is p.empty and p.name not in var
        )

        # Every parameter in order, with its default (a placeholder when it
        # has none: a call that fits always gives those).
        self._template = {p.name: None if p.default is p.empty else p.default for p in parameters}
        # `*args` / `**kwargs`, with what they hold when nothing is passed.
        self._collectors = [
            (p.name, tuple if p.kind is inspect.Parameter.VAR_POSITIONAL else dict)
            for p in parameters
            if p.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        ]

    def bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        """Every parameter's argument, in order, defaults applied as
        :meth:`inspect.BoundArguments.apply_defaults` does (raises
        ``TypeError`` when the call does not fit)."""
        given = self.arguments(args, kwargs)
        bound = dict(self._template)
        bound.update(given)
        for name, empty in self._collectors:
            if name not in given:
                bound[name] = empty()
        return bound

    def arguments(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        """The arguments of a call by parameter name, in the signature's
        order; ``**`` options as one dict (raises ``TypeError`` when the
        call does not fit)."""
        if self._simple and len(args) <= len(self._positional):
            given = dict(zip(self._positional, args))
            extra: dict[str, Any] = {}
            fits = True
            for name, value in kwargs.items():
                if name in self._named and name not in given:
                    given[name] = value
                elif name not in self._named and self._var_keyword is not None:
                    extra[name] = value
                else:
                    fits = False
                    break
            if fits and all(name in given for name in self._required):
                if extra:
                    given[self._var_keyword] = extra  # type: ignore[index]
                return {name: given[name] for name in self._order if name in given}
        return dict(self.signature.bind(*args, **kwargs).arguments)


class _Rules:
    """What ``function`` accepts, resolved from its annotations on first use
    (every name they use is defined by then)."""

    def __init__(self, function: Callable[..., Any], name: str | None = None) -> None:
        self.function = function
        self.name = name or function.__name__
        self.signature = inspect.signature(function)
        self.parameters = Parameters(self.signature)
        self.hints: dict[str, Any] | None = None
        self.options: dict[str, Any] = {}

    def resolve(self) -> dict[str, Any]:
        if self.hints is None:
            namespace = vars(sys.modules[self.function.__module__])
            hints = {}
            for name, parameter in self.signature.parameters.items():
                if parameter.annotation is inspect.Parameter.empty:
                    continue
                hint = _evaluate(parameter.annotation, namespace)
                if isinstance(hint, _Unpacked):
                    self.options = _typed_dict_hints(hint.options)
                else:
                    hints[name] = hint
            self.hints = hints
        return self.hints

    def check(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        hints = self.resolve()
        where = self.name
        try:
            arguments = self.parameters.arguments(args, kwargs)
        except TypeError as err:
            raise ArgumentTypeError(self._binding_message(err, kwargs)) from None
        for name, value in arguments.items():
            kind = self.signature.parameters[name].kind
            if kind is inspect.Parameter.VAR_KEYWORD and name in hints:
                # `**options: T` (not a TypedDict): any name, each value a T.
                for option, given in value.items():
                    _check_value(where, option, given, hints[name])
            elif kind is inspect.Parameter.VAR_KEYWORD:
                for option, given in value.items():
                    if option not in self.options:
                        raise ArgumentTypeError(self._unknown(option))
                    _check_value(where, option, given, self.options[option])
            elif name in hints:
                _check_value(where, name, value, hints[name])

    def _valid_names(self) -> list[str]:
        names = [
            name
            for name, p in self.signature.parameters.items()
            if p.kind not in (inspect.Parameter.VAR_KEYWORD, inspect.Parameter.VAR_POSITIONAL)
        ]
        return names + list(self.options)

    def _unknown(self, option: str) -> str:
        message = f"{self.name}() got an unknown option {option!r}"
        close = difflib.get_close_matches(option, self._valid_names(), n=1, cutoff=0.6)
        if close:
            return f"{message}; did you mean {close[0]!r}?"
        return f"{message}; valid options: {', '.join(self._valid_names())}"

    def _binding_message(self, err: TypeError, kwargs: dict[str, Any]) -> str:
        valid = set(self._valid_names())
        for option in kwargs:
            if option not in valid:
                return self._unknown(option)
        return f"{self.name}(): {err}"


def _typed_dict_hints(options: Any) -> dict[str, Any]:
    """The annotation of every key of a TypedDict (its bases' too), each
    evaluated in the module that wrote it."""
    hints: dict[str, Any] = {}
    default = vars(sys.modules[options.__module__])
    for name, annotation in options.__annotations__.items():
        text = getattr(annotation, "__forward_arg__", annotation)
        module = getattr(annotation, "__forward_module__", None)
        namespace = vars(sys.modules[module]) if module in sys.modules else default
        hints[name] = _evaluate(text, namespace) if isinstance(text, str) else text
    return hints


def _evaluate(annotation: Any, namespace: dict[str, Any]) -> Any:
    """The typing object an annotation (a string, usually) stands for."""
    if not isinstance(annotation, str):
        return annotation
    return _node(ast.parse(annotation, mode="eval").body, namespace)


def _node(node: ast.expr, namespace: dict[str, Any]) -> Any:
    if isinstance(node, ast.Constant):
        return _NONE if node.value is None else node.value
    if isinstance(node, ast.Name):
        if node.id in namespace:
            return namespace[node.id]
        if node.id == "Unpack":
            return "Unpack"  # imported for type checkers only
        return getattr(builtins, node.id)
    if isinstance(node, ast.Attribute):
        return getattr(_node(node.value, namespace), node.attr)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return Union[_node(node.left, namespace), _node(node.right, namespace)]
    if isinstance(node, ast.Subscript):
        origin = _node(node.value, namespace)
        items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if origin == "Unpack" or getattr(origin, "__name__", None) == "Unpack":
            return _Unpacked(_node(items[0], namespace))
        if origin is Literal:
            return Literal[tuple(_literal(item) for item in items)]
        args = tuple(_node(item, namespace) for item in items)
        return origin[args if len(args) > 1 else args[0]]
    if isinstance(node, ast.List):  # Callable[[...], R]
        return [_node(item, namespace) for item in node.elts]
    msg = f"cannot read the annotation {ast.unparse(node)!r}"
    raise TypeError(msg)


def _literal(node: ast.expr) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    msg = f"Literal values must be constants, got {ast.unparse(node)!r}"
    raise TypeError(msg)


# ---------------------------------------------------------------- checking


def _check_value(where: str, name: str, value: Any, hint: Any) -> None:
    if _matches(value, hint):
        return
    choices = _literal_choices(hint)
    if choices and _only_literals(hint) and any(type(value) is type(c) for c in choices):
        shown = ", ".join(repr(c) for c in choices)
        message = f"{where}(): {name} must be one of {shown}, got {value!r}"
        close = difflib.get_close_matches(str(value), [str(c) for c in choices], n=1)
        if close:
            message += f"; did you mean {close[0]!r}?"
        raise InvalidInputError(message)
    expected = _describe(hint)
    if isinstance(value, (str, bytes)) and _accepts_sequence(hint):
        if name == "keys":
            expected = "a list of keys"
        raise ArgumentTypeError(f"{where}(): {name} must be {expected}, not a string")
    raise ArgumentTypeError(f"{where}(): {name} must be {expected}, got {_given(value)}")


def _matches(value: Any, hint: Any) -> bool:
    if hint is Any or hint is object:
        return True
    if hint is _NONE or hint is None:
        return value is None
    origin, args = _shape(hint)
    if origin is Union:
        return any(_matches(value, arg) for arg in args)
    if origin is Literal:
        return any(_same_choice(value, arg) for arg in args)
    if origin is type:
        return isinstance(value, type) and (args[0] is Any or issubclass(value, args[0]))
    if origin in (abc.Sequence, abc.Iterable, list):
        # Text is a sequence of characters, never a list of values.
        if isinstance(value, (str, bytes, abc.Mapping)) or not isinstance(value, origin):
            return False
        if not isinstance(value, abc.Collection):  # a one-shot iterator: not consumed here
            return True
        if not args:
            return True
        plain = _plain_classes(args[0])
        if plain is not None:  # the common case (keys), fast: no per-item dispatch
            return all(isinstance(item, plain) for item in value)
        return all(_matches(item, args[0]) for item in value)
    if origin is tuple:
        if not isinstance(value, tuple):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(_matches(item, args[0]) for item in value)
        return len(value) == len(args) and all(map(_matches, value, args))
    if origin in (abc.Mapping, dict):
        if not isinstance(value, abc.Mapping):
            return False
        if not args:
            return True
        return all(_matches(k, args[0]) and _matches(v, args[1]) for k, v in value.items())
    if origin is abc.Callable or hint is abc.Callable:
        return callable(value)
    if _is_typed_dict(hint):  # its keys only, each of its type
        hints = _typed_dict_hints(hint)
        return isinstance(value, abc.Mapping) and all(
            k in hints and _matches(v, hints[k]) for k, v in value.items()
        )
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(hint, type):
        return isinstance(value, hint)
    return True  # an annotation this checker does not know: the callee decides


# The origin and arguments of each annotation checked so far (annotations
# are few and fixed: the public signatures').
_shapes: dict[Any, tuple[Any, tuple[Any, ...]]] = {}


def _shape(hint: Any) -> tuple[Any, tuple[Any, ...]]:
    """``(typing.get_origin(hint), typing.get_args(hint))``, remembered."""
    try:
        return _shapes[hint]
    except KeyError:
        shape = _shapes[hint] = (typing.get_origin(hint), typing.get_args(hint))
        return shape
    except TypeError:  # an annotation that cannot be hashed
        return typing.get_origin(hint), typing.get_args(hint)


def _is_typed_dict(hint: Any) -> bool:
    """A TypedDict class (``typing.is_typeddict`` is Python 3.10+)."""
    return isinstance(hint, type) and issubclass(hint, dict) and hasattr(hint, "__total__")


def _plain_classes(hint: Any) -> tuple[type, ...] | None:
    """The classes ``hint`` accepts when it is just classes (``str | bytes``)
    that ``isinstance`` checks exactly (not ``int``/``float``: bool is refused)."""
    args = typing.get_args(hint) if typing.get_origin(hint) is Union else (hint,)
    if Any in args:  # a class itself since Python 3.11, but no isinstance target
        return (object,)
    if all(isinstance(a, type) and a not in (int, float, bool) for a in args):
        return tuple(args)
    return None


def _same_choice(value: Any, choice: Any) -> bool:
    """``value`` is the ``Literal`` choice (text in any case, as Redis names are)."""
    if type(value) is not type(choice):
        return False
    if isinstance(value, str):
        return bool(value.lower() == choice.lower())
    return bool(value == choice)


def _literal_choices(hint: Any) -> list[Any]:
    if typing.get_origin(hint) is Literal:
        return list(typing.get_args(hint))
    if typing.get_origin(hint) is Union:
        return [c for arg in typing.get_args(hint) for c in _literal_choices(arg)]
    return []


def _only_literals(hint: Any) -> bool:
    """Whether every value ``hint`` admits is one of its ``Literal`` choices (or None)."""
    if typing.get_origin(hint) is Union:
        return all(_only_literals(arg) for arg in typing.get_args(hint))
    return typing.get_origin(hint) is Literal or hint is _NONE


def _accepts_sequence(hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if origin is Union:
        return any(_accepts_sequence(arg) for arg in typing.get_args(hint))
    return origin in (abc.Sequence, abc.Iterable)


_NAMES = {
    int: "an int",
    float: "a number (int or float)",
    typing.SupportsFloat: "a number",
    bool: "a bool",
    str: "a str",
    bytes: "bytes",
    _NONE: "None",
}


def _describe(hint: Any) -> str:
    """``hint`` in words: ``an int or None``, ``a list of str or bytes``."""
    if hint in _NAMES:
        return _NAMES[hint]
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is Union:
        parts = list(dict.fromkeys(_describe(arg) for arg in args if arg is not _NONE))
        if _NONE in args:
            parts.append("None")
        return " or ".join(parts) if len(parts) < 3 else ", ".join(parts[:-1]) + " or " + parts[-1]
    if origin is Literal:
        return "one of " + ", ".join(map(repr, args)) if len(args) > 1 else repr(args[0])
    if origin in (abc.Sequence, list):
        return f"a list of {_plural(args[0])}" if args else "a list"
    if origin is abc.Iterable:
        return f"an iterable of {_plural(args[0])}" if args else "an iterable"
    if origin is tuple:
        return "a tuple (" + ", ".join(_describe(arg) for arg in args) + ")"
    if _is_typed_dict(hint):
        return f"a mapping with keys {', '.join(_typed_dict_hints(hint))}"
    if origin in (abc.Mapping, dict):
        if args:
            values = _plural(args[1])
            if typing.get_origin(args[1]) is Union:
                values = f"({values})"
            return f"a mapping of {_plural(args[0])} to {values}"
        return "a mapping"
    if origin is type:
        return f"a {_qualified(args[0])} class"
    if origin is abc.Callable or hint is abc.Callable:
        return "a callable"
    if isinstance(hint, type):
        return f"a {_qualified(hint)}"
    return str(hint)


def _plural(hint: Any) -> str:
    if hint is Any:
        return "any value"
    words = _describe(hint)
    for article in ("an ", "a "):
        if words.startswith(article):
            return words[len(article) :]
    return words


def _qualified(cls: Any) -> str:
    module = getattr(cls, "__module__", "")
    name = getattr(cls, "__qualname__", str(cls))
    if module.startswith("polars"):
        top = module.split(".")[0]
        return f"{'pl' if top == 'polars' else top}.{name}"
    return str(name)


def _text(value: str | bytes) -> str:
    return value if isinstance(value, str) else value.decode(errors="replace")


def _given(value: Any) -> str:
    """What was given: its type, and its value when short and safe to show
    (text that could be a URL with a password is never shown)."""
    kind = _qualified(type(value))
    if value is None:
        return "None"
    if isinstance(value, (bool, int, float)):
        return f"{kind} {value!r}"
    if isinstance(value, (str, bytes)):
        text = _text(value)
        if len(text) <= 40 and "@" not in text and "://" not in text:
            return f"{kind} {value!r}"
        return f"{kind} of {len(value)} characters"
    if isinstance(value, type):
        return f"the class {_qualified(value)}"
    return kind
